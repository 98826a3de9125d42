/**
 * picas: the public API. Everything the `picas` command does is reachable from here; nothing here
 * imports from cli/.
 */
export * from './couch/errors.js';
export { CouchServer, type CouchOptions, type RequestOptions, redactUrl } from './couch/server.js';
export * from './couch/database.js';
export { connect } from './config/connect.js';
export { withRetry, type RetryOptions } from './couch/retry.js';
export { parseJson, toJson } from './couch/json.js';
export * from './tokens/index.js';
export * from './claim/claim.js';
export { CandidateReader } from './claim/candidates.js';
export * from './lease/pilot-identity.js';
export * from './worker/run-pilot.js';
export * from './worker/command-task.js';
export * from './worker/save-result.js';
export * from './worker/release.js';
export { TokenFeed } from './worker/token-feed.js';
export { resolveSettings, type Settings, type SettingsInput } from './config/settings.js';
export { configDir, EMBEDDED_DEFAULTS } from './config/paths.js';
import type { EmbeddedServer, EmbeddedServerOptions } from './server/embedded.js';
export type { EmbeddedServer, EmbeddedServerOptions } from './server/embedded.js';

/**
 * Start the embedded CouchDB-compatible server. Its modules (PouchDB, LevelDB, express) load on the first
 * call rather than with `picas`: imported eagerly they cost every user of this API, pilots above all,
 * tens of MB of memory (docs/pilot-memory.md).
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const embedded = await import('./server/embedded.js');
  return embedded.startEmbeddedServer(options);
}

// Token sources and push (picas push), maintenance (export, reset, delete, users, the log handler),
// running one command (picas run's executor), drain control.
export * from './sources/index.js';
export { spoolStdin, type SpooledInput } from './sources/stdin.js';
export * from './maintenance/index.js';
export * from './exec/index.js';
export { setDrain } from './lease/control.js';
// A program that bundles picas into one file must let its entry be the pilot's watchdog when started as one
// (src/lease/watchdog-launch.ts): `if (isWatchdogProcess()) runWatchdogProcess(); else main();`.
export { isWatchdogProcess, runWatchdogProcess } from './lease/watchdog-process.js';
export type { HeartbeatDoc, PilotState } from './lease/heartbeat.js';
export * from './snakemake/index.js';
// picas autopilot: keep pilot jobs submitted while views have work (submit/query templates, default Slurm).
export * from './autopilot/index.js';
// picas status / show / logs and the dashboard: what a run looks like, from bounded reads only.
export * from './status/index.js';
