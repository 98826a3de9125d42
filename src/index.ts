/**
 * picas: the public API. Everything the `picas` command does is reachable from here; nothing here
 * imports from cli/.
 */
export * from './couch/errors.js';
export { CouchServer, type CouchOptions, type RequestOptions, redactUrl } from './couch/server.js';
export * from './couch/database.js';
export { connect } from './config/connect.js';
export { withRetry, type RetryOptions } from './couch/retry.js';
export * from './tokens/index.js';
export * from './claim/claim.js';
export * from './lease/pilot-identity.js';
export * from './worker/run-pilot.js';
export * from './worker/command-task.js';
export * from './worker/save-result.js';
export * from './worker/release.js';
export { TokenFeed } from './worker/token-feed.js';
export { resolveSettings, type Settings, type SettingsInput } from './config/settings.js';
export { configDir, EMBEDDED_DEFAULTS } from './config/paths.js';
export { startEmbeddedServer, type EmbeddedServer, type EmbeddedServerOptions } from './server/embedded.js';
