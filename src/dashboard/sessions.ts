import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CouchServer } from '../couch/server.js';
import type { Settings } from '../config/settings.js';
import { connect } from '../config/connect.js';
import { UnauthorizedError } from '../couch/errors.js';

/**
 * Who the dashboard acts as. On loopback (the default) it acts with the connection settings of whoever
 * started it, like every other command. Bound to another address it acts only for people who logged in
 * with a CouchDB user name and password (checked by the CouchDB server), each with their own client and
 * so their own rights. Passwords stay in this process's memory: the browser holds only a random session
 * id (an HttpOnly, SameSite=Strict cookie) and a CSRF token for the requests that change data.
 */
export interface DashSession {
  id: string;
  csrf: string;
  user: string;
  couch: CouchServer;
  /** Epoch ms of the last request, for expiry. */
  seen: number;
  /** The key of the change watcher this session shares (one per CouchDB user). */
  watchKey: string;
}

export const COOKIE = 'picas_dashboard';
/** Sessions end after this long without a request. */
const IDLE_MS = 12 * 3600_000;

const token = (): string => randomBytes(24).toString('base64url');

export class Sessions {
  private sessions = new Map<string, DashSession>();
  private owner: CouchServer | undefined;

  constructor(private readonly settings: Settings, readonly loginRequired: boolean) {}

  /** The session of a request's cookie, if it is valid. */
  get(id: string | undefined): DashSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.seen > IDLE_MS) { void this.end(id); return undefined; }
    s.seen = Date.now();
    return s;
  }

  /** A session for the person who started the dashboard (loopback only). */
  ownerSession(): DashSession {
    if (this.loginRequired) throw new Error('login required');
    this.owner ??= connect(this.settings);
    const s: DashSession = { id: token(), csrf: token(), user: this.settings.username ?? '', couch: this.owner, seen: Date.now(), watchKey: 'owner' };
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * Log in as a CouchDB user: the server checks the name and password (a database request made with
   * them); on success the session acts with that user's client. Throws UnauthorizedError when refused.
   */
  async login(user: string, password: string): Promise<DashSession> {
    const couch = connect({ ...this.settings, username: user, password });
    try {
      await couch.db(this.settings.database).info();
    } catch (err) {
      await couch.close();
      throw err;
    }
    const s: DashSession = { id: token(), csrf: token(), user, couch, seen: Date.now(), watchKey: `user:${user}:${token()}` };
    this.sessions.set(s.id, s);
    return s;
  }

  async end(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (s && s.couch !== this.owner) await s.couch.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.end(id);
    await this.owner?.close().catch(() => undefined);
  }
}

/** Constant-time comparison of a CSRF token. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export { UnauthorizedError };
