import type { CommandResult } from './types.js';

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * One line saying how a command ended, for the token's error entry and the pilot's log: e.g.
 * "exceeded the time limit of 60 s (maxTokenTime) and was stopped with SIGTERM".
 */
export function describeOutcome(result: CommandResult, timeoutMs?: number): string {
  if (result.startError) return result.startError;
  const how = result.signal ? `with ${result.signal}` : `(exit code ${result.exitCode})`;
  if (result.timedOut) {
    const limit = timeoutMs === undefined ? '' : ` of ${seconds(timeoutMs)}`;
    return `exceeded the time limit${limit} (maxTokenTime) and was stopped ${how}`;
  }
  if (result.aborted) {
    return result.started ? `stopped because the pilot was stopping, ${how}` : 'not started: the pilot was stopping';
  }
  if (result.signal) return `killed by ${result.signal}`;
  return `exited with code ${result.exitCode}`;
}
