/** Running one command for a token: process groups, limits, bounded logs, a secret-free environment. */
export { runCommand, DEFAULT_GRACE_MS, DEFAULT_MAX_LOG_BYTES } from './run-command.js';
export type { RunCommandOptions, CommandResult } from './types.js';
export { CommandSpecError } from './errors.js';
export { expandArgvTemplate } from './argv-template.js';
export { tokenEnvironment, scrubSecrets, fieldVariableName, MAX_ENV_VALUE_BYTES } from './environment.js';
export { safeFileName, slotWorkDir, freshDir, removeEmptyWorkDir, MAX_SAFE_NAME_BYTES } from './work-dir.js';
export { describeOutcome } from './outcome.js';
export { TailBuffer } from './tail-buffer.js';
