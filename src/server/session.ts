import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { rawBody } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import type { UserCtx, UserDirectory } from './users.js';

/**
 * Cookie sessions as CouchDB 3 offers them: `POST /_session` with a name and password (JSON or form) sets
 * an `AuthSession` cookie; later requests may carry it instead of Basic credentials; `GET /_session` says
 * who a request is and how it was authenticated; `DELETE /_session` ends the cookie. The cookie is
 * `base64url(name:hex-time:hmac)`, signed with a secret made at server start (so sessions end with the
 * process) and the user's password salt (so a changed password ends them too); it lasts 10 minutes,
 * CouchDB's default `timeout`.
 */
const TIMEOUT_S = 600;
export const AUTH_HANDLERS = ['cookie', 'default'];

export class SessionKeeper {
  private readonly secret = randomBytes(32);

  constructor(private readonly users: UserDirectory) {}

  private sign(name: string, time: string, salt: string): string {
    return createHmac('sha256', this.secret).update(`${name}:${time}:${salt}`).digest('hex');
  }

  async cookieFor(name: string): Promise<string> {
    const time = Math.floor(Date.now() / 1000).toString(16).toUpperCase();
    const salt = await this.users.saltOf(name);
    return Buffer.from(`${name}:${time}:${this.sign(name, time, salt ?? '')}`).toString('base64url');
  }

  /** The user a request's AuthSession cookie names, if the cookie is valid and not expired. */
  async userFromCookie(req: Request): Promise<UserCtx | undefined> {
    const m = /(?:^|;\s*)AuthSession=([^;]*)/.exec(String(req.headers.cookie ?? ''));
    if (!m || !m[1]) return undefined;
    const text = Buffer.from(m[1], 'base64url').toString('utf8');
    const parts = text.split(':');
    if (parts.length < 3) return undefined;
    const mac = parts.pop()!; const time = parts.pop()!; const name = parts.join(':');
    const age = Math.floor(Date.now() / 1000) - parseInt(time, 16);
    if (!Number.isFinite(age) || age < 0 || age > TIMEOUT_S) return undefined;
    const salt = await this.users.saltOf(name);
    if (salt === undefined) return undefined;
    const expected = Buffer.from(this.sign(name, time, salt));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return this.users.contextOf(name);
  }

  /** `/_session`, for anyone (signed in or not). */
  async handle(req: Request, res: Response, user: UserCtx | undefined, how: string | undefined): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const info: Record<string, unknown> = { authentication_handlers: AUTH_HANDLERS };
      if (user && how) info.authenticated = how;
      return sendJson(res, 200, { ok: true, userCtx: user ?? { name: null, roles: [] }, info });
    }
    if (req.method === 'DELETE') {
      res.setHeader('Set-Cookie', 'AuthSession=; Version=1; Path=/; HttpOnly; Max-Age=0');
      return sendJson(res, 200, { ok: true });
    }
    if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only DELETE,GET,HEAD,POST allowed');
    const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let name: unknown; let password: unknown;
    const text = (await rawBody(req)).toString('utf8');
    if (ct === 'application/json') {
      try { ({ name, password } = JSON.parse(text) as { name?: unknown; password?: unknown }); } catch { return sendError(res, 400, 'bad_request', 'invalid UTF-8 JSON'); }
    } else if (ct === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams(text);
      name = form.get('name') ?? undefined; password = form.get('password') ?? undefined;
    } else {
      return sendError(res, 415, 'bad_content_type', "Content-Type must be 'application/x-www-form-urlencoded' or 'application/json'");
    }
    const who = typeof name === 'string' && typeof password === 'string' ? await this.users.authenticate(name, password) : undefined;
    if (!who) return sendError(res, 401, 'unauthorized', 'Name or password is incorrect.');
    res.setHeader('Set-Cookie', `AuthSession=${await this.cookieFor(who.name)}; Version=1; Path=/; HttpOnly`);
    sendJson(res, 200, { ok: true, name: who.name, roles: who.roles });
  }
}
