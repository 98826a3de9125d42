import type { Settings } from './settings.js';
import { CouchServer } from '../couch/server.js';

/**
 * Open a client for resolved settings. It checks the server's welcome before its first request, so a URL
 * that points at another web server fails as "not CouchDB" whatever the command asks first.
 */
export function connect(settings: Settings): CouchServer {
  return new CouchServer({
    url: settings.url,
    username: settings.username,
    password: settings.password,
    timeoutMs: settings.timeoutMs,
    tls: { caFile: settings.tls.caFile, verify: settings.tls.verify },
    verify: true,
  });
}
