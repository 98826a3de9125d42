import express, { type NextFunction, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../config/settings.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../couch/errors.js';
import { redactUrl } from '../couch/server.js';
import type { Token } from '../tokens/token.js';
import { tokenState } from '../tokens/state.js';
import { listTokens, isTokenState } from '../status/token-list.js';
import { readLogs } from '../status/token-logs.js';
import { attemptHistory } from '../status/attempt-history.js';
import { COOKIE, Sessions, sameToken, type DashSession } from './sessions.js';
import { StatusWatcher } from './watcher.js';
import { deleteSelected, drainPilots, resetExpired, resetSelected, retryErrors, type ActionResult } from './actions.js';
import { pageHtml, loginHtml } from './page.js';
import { CLIENT_JS } from './client.js';
import { STYLE_CSS } from './style.js';

export interface DashboardOptions {
  settings: Settings;
  /** Address to listen on (default 127.0.0.1: this machine only). Any other address requires a login. */
  host?: string;
  port?: number;
  design?: string;
  /** Ask for a CouchDB login even on loopback (a machine shared with other people). */
  requireLogin?: boolean;
  /** Seconds a stopped pilot's heartbeat is kept (default a day). */
  retentionSeconds?: number;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** Bytes of each log the token view shows (the tail; `picas logs` prints everything). */
const LOG_VIEW_BYTES = 256 * 1024;

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * `picas dashboard`: a small express app serving one page, its script and style (no build step: they are
 * strings in this package), a status API fed by one change watcher per CouchDB user, a token browser,
 * token details with logs, and actions that change data (each behind a confirmation on the page, a CSRF
 * token and a same-origin check here).
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const sessions = new Sessions(options.settings, !loopback || Boolean(options.requireLogin));
  const watchers = new Map<string, StatusWatcher>();
  const log = options.log ?? (() => {});
  const app = express();
  app.disable('x-powered-by');

  const watcherOf = (s: DashSession): StatusWatcher => {
    let w = watchers.get(s.watchKey);
    if (!w) {
      w = new StatusWatcher(s.couch.db(options.settings.database), s.user, { design: options.design, retentionSeconds: options.retentionSeconds, log });
      watchers.set(s.watchKey, w);
    }
    return w;
  };

  app.use((req, res, next) => {
    // Everything shown comes from tokens and logs: escaped on the page, and no script but our own may run.
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    // On loopback, only requests addressed to this machine by name: a web page elsewhere cannot reach the
    // dashboard by pointing a DNS name of its own at 127.0.0.1 (DNS rebinding).
    if (loopback) {
      const h = String(req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!isLoopback(h)) { res.status(403).type('text/plain').send('this dashboard answers only to requests for this machine (localhost)'); return; }
    }
    next();
  });

  /** Requests that change data must come from our own page: same origin, and the session's CSRF token. */
  const sameOrigin = (req: Request): boolean => {
    const origin = req.headers.origin;
    if (!origin) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin';
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  };

  const cookieFlags = 'HttpOnly; SameSite=Strict; Path=/';

  app.get('/style.css', (_req, res) => { res.type('text/css').send(STYLE_CSS); });
  app.get('/app.js', (_req, res) => { res.type('application/javascript').send(CLIENT_JS); });

  app.get('/login', (_req, res) => {
    if (!sessions.loginRequired) { res.redirect(303, '/'); return; }
    res.type('html').send(loginHtml(options.settings.database));
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    if (!sessions.loginRequired) { res.redirect(303, '/'); return; }
    if (!sameOrigin(req)) { res.status(403).type('text/plain').send('cross-site login refused'); return; }
    const user = String(req.body?.username ?? '');
    const password = String(req.body?.password ?? '');
    try {
      const s = await sessions.login(user, password);
      res.setHeader('Set-Cookie', `${COOKIE}=${s.id}; ${cookieFlags}`);
      log(`dashboard: ${user} logged in`);
      res.redirect(303, '/');
    } catch (err) {
      const refused = err instanceof UnauthorizedError || err instanceof ForbiddenError;
      const why = err instanceof ForbiddenError ? `user ${user} may not read database ${options.settings.database}`
        : refused ? 'wrong user name or password' : `the CouchDB server could not be asked: ${(err as Error).message}`;
      res.status(refused ? 401 : 502).type('html').send(loginHtml(options.settings.database, why));
    }
  });

  // Every other route needs a session: on loopback one is made for whoever opens the page.
  app.use((req: Request, res: Response, next: NextFunction) => {
    let s = sessions.get(cookieOf(req, COOKIE));
    if (!s && !sessions.loginRequired && req.method === 'GET' && req.path === '/') {
      s = sessions.ownerSession();
      res.setHeader('Set-Cookie', `${COOKIE}=${s.id}; ${cookieFlags}`);
    }
    if (!s) {
      if (req.path.startsWith('/api/')) res.status(401).json({ error: sessions.loginRequired ? 'log in first' : 'reload the page' });
      else res.redirect(303, sessions.loginRequired ? '/login' : '/');
      return;
    }
    res.locals.session = s;
    next();
  });

  app.get('/', (_req, res) => {
    const s = res.locals.session as DashSession;
    res.type('html').send(pageHtml({ database: options.settings.database, server: redactUrl(options.settings.url), user: s.user, csrf: s.csrf, canLogout: sessions.loginRequired }));
  });

  app.post('/logout', async (req, res) => {
    const s = res.locals.session as DashSession;
    if (!sameOrigin(req)) { res.status(403).end(); return; }
    await sessions.end(s.id);
    res.setHeader('Set-Cookie', `${COOKIE}=; Max-Age=0; ${cookieFlags}`);
    res.redirect(303, '/login');
  });

  const api = (fn: (req: Request, res: Response, s: DashSession) => Promise<unknown>) => async (req: Request, res: Response) => {
    try {
      const body = await fn(req, res, res.locals.session as DashSession);
      if (body !== undefined) res.json(body);
    } catch (err) {
      const status = err instanceof UnauthorizedError ? 401 : err instanceof ForbiddenError ? 403 : err instanceof NotFoundError ? 404 : err instanceof RangeError ? 400 : 502;
      res.status(status).json({ error: (err as Error).message });
    }
  };

  app.get('/api/status', api(async (_req, _res, s) => watcherOf(s).current()));

  app.get('/api/events', (req, res) => {
    const s = res.locals.session as DashSession;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    const w = watcherOf(s);
    w.addClient(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 20_000);
    req.on('close', () => { clearInterval(ping); w.removeClient(res); });
  });

  app.get('/api/tokens', api(async (req, _res, s) => {
    const state = req.query.state ? String(req.query.state) : undefined;
    if (state !== undefined && !isTokenState(state)) throw new RangeError(`state must be todo, locked, done or error, not ${JSON.stringify(state)}`);
    const page = await listTokens(s.couch.db(options.settings.database), {
      state, prefix: req.query.prefix ? String(req.query.prefix) : undefined,
      after: req.query.after !== undefined ? String(req.query.after) : undefined,
      limit: Math.min(200, Number(req.query.limit) || 50), design: options.design,
    });
    return {
      next: page.next,
      tokens: page.tokens.map((t) => ({
        id: t._id, state: t.state, exit_code: t.exit_code, host: t.hostname || undefined,
        lock: Number(t.lock) || undefined, done: Number(t.done) || undefined,
        input: typeof t.input === 'string' ? t.input.slice(0, 200) : JSON.stringify(t.input)?.slice(0, 200),
      })),
    };
  }));

  app.get('/api/token', api(async (req, _res, s) => {
    const id = String(req.query.id ?? '');
    if (!id || id.startsWith('_')) throw new RangeError('a token id is needed (ids starting with "_" are CouchDB\'s own documents)');
    const db = s.couch.db(options.settings.database);
    const token = await db.find<Token>(id);
    if (!token) throw new RangeError(`no token "${id}" in database ${options.settings.database}`);
    const logs = await readLogs(db, token);
    const cut = (t: string | undefined) => (t === undefined ? undefined : Buffer.byteLength(t) > LOG_VIEW_BYTES
      ? { text: Buffer.from(t).subarray(-LOG_VIEW_BYTES).toString('utf8'), cut: Buffer.byteLength(t) - LOG_VIEW_BYTES } : { text: t, cut: 0 });
    const { _attachments, ...fields } = token;
    return {
      id, state: tokenState(token) ?? 'unknown', doc: fields, attachments: Object.keys(_attachments ?? {}),
      history: attemptHistory(token), stdout: cut(logs.stdout), stderr: cut(logs.stderr), now: Math.floor(db.server.serverNow() / 1000),
    };
  }));

  const actions: Record<string, (s: DashSession, body: Record<string, unknown>) => Promise<ActionResult>> = {
    'reset': (s, b) => resetSelected(s.couch.db(options.settings.database), (b.ids ?? []) as string[]),
    'delete': (s, b) => deleteSelected(s.couch.db(options.settings.database), (b.ids ?? []) as string[]),
    'reset-expired': (s) => resetExpired(s.couch.db(options.settings.database)),
    'retry-errors': (s) => retryErrors(s.couch.db(options.settings.database)),
    'drain': (s, b) => drainPilots(s.couch.db(options.settings.database), Boolean(b.undo)),
  };
  app.post('/api/actions/:name', express.json({ limit: '256kb' }), api(async (req, res, s) => {
    if (!sameOrigin(req) || !sameToken(req.get('x-csrf-token'), s.csrf)) {
      res.status(403).json({ error: 'refused: this request did not come from the dashboard page (CSRF check)' });
      return undefined;
    }
    const act = actions[req.params.name ?? ''];
    if (!act) throw new RangeError(`no action ${JSON.stringify(req.params.name)}`);
    const result = await act(s, (req.body ?? {}) as Record<string, unknown>);
    log(`dashboard: ${s.user || 'owner'} ran ${req.params.name}: ${result.message}`);
    void watcherOf(s).refresh().catch(() => undefined);
    return result;
  }));

  const server: Server = await new Promise((resolve, reject) => {
    const srv = app.listen(options.port ?? 8080, host, () => resolve(srv));
    srv.once('error', reject);
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${(server.address() as AddressInfo).port}/`,
    async close() {
      for (const w of watchers.values()) await w.stop();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections?.(); });
      await sessions.closeAll();
    },
  };
}
