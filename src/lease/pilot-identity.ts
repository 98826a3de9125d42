import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { jobIdFromEnv } from '../tokens/job-ids.js';

/** Who claims: recorded in each token it holds, so a human (and a recovering pilot) can tell. */
export interface PilotIdentity {
  pilotId: string;
  hostname: string;
  jobId?: { field: string; value: string };
  env: NodeJS.ProcessEnv;
}

export function pilotIdentity(env: NodeJS.ProcessEnv = process.env): PilotIdentity {
  return { pilotId: `pilot_${randomUUID().replace(/-/g, '').slice(0, 16)}`, hostname: hostname(), jobId: jobIdFromEnv(env), env };
}

export function newAttemptId(): string {
  return `attempt_${randomUUID().replace(/-/g, '')}`;
}
