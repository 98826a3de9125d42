// The server every section measures: an embedded one started here in its own process (default), or any
// CouchDB given by URL. Children get its address and credentials through the environment, never argv.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnEmbeddedServer } from '../../test/helpers/couch.js';
import { CouchServer } from '../../src/couch/server.js';

export interface BenchServer {
  /** Base URL without credentials. */
  url: string;
  username?: string;
  password?: string;
  /** The server's process id when it runs on this machine and we started it (its CPU is then measured). */
  pid?: number;
  /** What it is, for the report: "embedded (picas)" or the welcome's vendor and version. */
  label: string;
  client(timeoutMs?: number): CouchServer;
  /** Environment for child processes: PICAS_* settings (the CLI's) plus BENCH_COUCH_URL with credentials. */
  env(database: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The pid of the only `beam.smp` process on this machine, if there is exactly one. */
function localBeam(): number | undefined {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try { if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'beam.smp') found.push(Number(name)); } catch { /* gone */ }
  }
  return found.length === 1 ? found[0] : undefined;
}

export async function openBenchServer(url: string | undefined): Promise<BenchServer> {
  let base: string;
  let username: string | undefined;
  let password: string | undefined;
  let pid: number | undefined;
  let stop = async () => {};
  if (url) {
    const u = new URL(url);
    username = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
    u.username = ''; u.password = '';
    base = u.toString().replace(/\/$/, '');
    // A CouchDB on this machine: its Erlang VM's CPU is the server's (BENCH_SERVER_PID names it when several run).
    if (['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) pid = Number(process.env.BENCH_SERVER_PID) || localBeam();
  } else {
    const s = await spawnEmbeddedServer();
    s.child.ref();
    base = s.url; username = s.username; password = s.password; pid = s.child.pid;
    // A bench that is interrupted must not leave a server running.
    const kill = () => { s.child.kill('SIGKILL'); rmSync(s.dataDir, { recursive: true, force: true }); };
    process.once('exit', kill);
    stop = async () => {
      process.off('exit', kill);
      await s.stop();
      rmSync(s.dataDir, { recursive: true, force: true });
    };
  }
  const client = (timeoutMs = 600_000) => new CouchServer({ url: base, username, password, timeoutMs });
  const probe = client(30_000);
  let label: string;
  try {
    // Not welcome(): the embedded server answers as express-pouchdb, without a "couchdb" field.
    const w = (await probe.request<{ version?: string; vendor?: { name?: string } }>('GET', '/')).body;
    label = url ? `${w.vendor?.name ?? 'CouchDB'} ${w.version ?? ''} at ${base}${pid ? ` (server CPU: beam.smp pid ${pid})` : ''}` : `embedded picas server (welcome says version ${w.version ?? "?"}), own process, temp data dir`;
  } finally {
    await probe.close();
  }
  const authUrl = (() => {
    const u = new URL(base);
    if (username !== undefined) { u.username = encodeURIComponent(username); u.password = encodeURIComponent(password ?? ''); }
    return u.toString().replace(/\/$/, '');
  })();
  return {
    url: base, username, password, pid, label, client,
    env: (database) => ({
      ...process.env,
      PICAS_HOST_URL: base,
      PICAS_DATABASE: database,
      ...(username !== undefined ? { PICAS_USERNAME: username } : {}),
      ...(password !== undefined ? { PICAS_PASSWORD: password } : {}),
      BENCH_COUCH_URL: authUrl,
      BENCH_DATABASE: database,
    }),
    stop,
  };
}
