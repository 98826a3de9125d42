import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { spawnEmbeddedServer } from '../helpers/couch.js';

export type Auth = { username: string; password: string } | null;

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** One HTTP request to the server under test; `auth: null` sends none. Bounded by a timeout. */
export async function call(base: string, method: string, path: string, opts: { auth?: Auth; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  let body: string | undefined;
  if (opts.body !== undefined) { body = JSON.stringify(opts.body); headers['content-type'] ??= 'application/json'; }
  const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * An embedded server of this test file's own, in a child process (tests that must own their server).
 * `admin` and `as(user)` make requests; `alive()` proves the process still serves.
 */
export function useOwnServer() {
  const ctx = {} as {
    url: string;
    admin: { username: string; password: string };
    server: Awaited<ReturnType<typeof spawnEmbeddedServer>>;
    req(method: string, path: string, opts?: { auth?: Auth; body?: unknown; headers?: Record<string, string>; timeoutMs?: number }): Promise<Reply>;
    alive(): Promise<void>;
  };
  before(async () => {
    ctx.server = await spawnEmbeddedServer();
    ctx.url = ctx.server.url;
    ctx.admin = { username: ctx.server.username, password: ctx.server.password };
    ctx.req = (method, path, opts = {}) => call(ctx.url, method, path, { auth: ctx.admin, ...opts });
    ctx.alive = async () => {
      if (ctx.server.child.exitCode !== null || ctx.server.child.signalCode !== null) throw new Error(`the server process ended (${ctx.server.child.exitCode ?? ctx.server.child.signalCode})`);
      const db = `alive-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
      const created = await ctx.req('PUT', `/${db}`);
      if (created.status !== 201) throw new Error(`server did not create a database: ${created.status}`);
      const put = await ctx.req('PUT', `/${db}/doc`, { body: { ok: 1 } });
      if (put.status !== 201) throw new Error(`server did not store a document: ${put.status}`);
      await ctx.req('DELETE', `/${db}`);
    };
  });
  after(async () => {
    ctx.server?.child.ref(); // unref()ed by the helper: keep the loop alive until it has exited
    await ctx.server?.stop();
    if (ctx.server) rmSync(ctx.server.dataDir, { recursive: true, force: true });
  });
  return ctx;
}

/** Make a user as the admin and return its credentials. */
export async function makeUser(ctx: ReturnType<typeof useOwnServer>, name: string, roles: string[] = []): Promise<{ username: string; password: string }> {
  const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
  const r = await ctx.req('PUT', `/_users/org.couchdb.user:${name}`, { body: { name, password, roles, type: 'user' } });
  if (r.status !== 201) throw new Error(`could not create user ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return { username: name, password };
}
