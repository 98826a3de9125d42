import type { Settings } from './settings.js';
import { CouchServer } from '../couch/server.js';

/** Open a client for resolved settings. */
export function connect(settings: Settings): CouchServer {
  return new CouchServer({
    url: settings.url,
    username: settings.username,
    password: settings.password,
    timeoutMs: settings.timeoutMs,
    tls: { caFile: settings.tls.caFile, verify: settings.tls.verify },
  });
}
