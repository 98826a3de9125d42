// Databases and tokens for the sections: token-shaped documents as the original writes them (REFERENCE.md
// section 1), written in 1,000-document `_bulk_docs` batches.
import { randomBytes } from 'node:crypto';
import { CandidateReader } from '../../src/claim/candidates.js';
import { DEFAULT_VIEW } from '../../src/claim/view-ref.js';
import { ServerError } from '../../src/couch/errors.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';
import type { Token } from '../../src/tokens/token.js';
import { TOKEN_STATES } from '../../src/tokens/state.js';

export const BULK_BATCH = 1000;

export function benchToken(id: string, input: string, state: 'todo' | 'done' = 'todo'): Token {
  const now = Math.floor(Date.now() / 1000);
  return {
    _id: id, type: 'token', lock: state === 'done' ? now : 0, done: state === 'done' ? now : 0,
    hostname: state === 'done' ? 'bench' : '', scrub_count: 0, input, exit_code: state === 'done' ? 0 : '',
    output: {}, uploads: {}, error: [],
  };
}

/** A new database with the Monitor design documents, named for its section. */
export async function freshDb(couch: CouchServer, label: string): Promise<Database> {
  const db = couch.db(`picas-bench-${label}-${randomBytes(3).toString('hex')}`);
  await db.create();
  await ensureDesignDocs(db);
  return db;
}

/**
 * Write `count` tokens with ids `<prefix><from..>`; `input(id)` makes each one's command. `doneShare` of
 * them (spread evenly) are written as already done.
 */
export async function fillTokens(db: Database, count: number, options: { prefix?: string; from?: number; input?: (id: string) => string; doneShare?: number } = {}): Promise<void> {
  const prefix = options.prefix ?? 'token_';
  const from = options.from ?? 0;
  const done = options.doneShare ?? 0;
  for (let start = 0; start < count; start += BULK_BATCH) {
    const docs: Token[] = [];
    for (let i = start; i < Math.min(count, start + BULK_BATCH); i++) {
      const id = `${prefix}${String(from + i).padStart(8, '0')}`;
      const isDone = done > 0 && (i % 100) < done * 100;
      docs.push(benchToken(id, options.input ? options.input(id) : 'true', isDone ? 'done' : 'todo'));
    }
    const results = await db.bulkDocs(docs);
    const failed = results.filter((r) => r.error);
    if (failed.length) throw new Error(`filling ${db.name}: ${failed.length} tokens refused, e.g. ${failed[0]!.id}: ${failed[0]!.error}`);
  }
}

/**
 * Bring the Monitor views picas reads up to date, so that later timings do not include building them:
 * `todo` (claims) and the four state views (`picas status` reads their sizes).
 */
export async function warmViews(db: Database): Promise<number> {
  const t0 = performance.now();
  for (const view of TOKEN_STATES) await untilBuilt(() => db.view('Monitor', view, { limit: 0 }));
  // Claims on CouchDB read the free-token Mango index (src/claim/free-index.ts): built here too, not on the clock.
  await untilBuilt(() => new CandidateReader(db).read([DEFAULT_VIEW], 1));
  await untilBuilt(() => db.view('picas', 'leases', { limit: 0 }));
  await indexersDone(db);
  return (performance.now() - t0) / 1000;
}

/**
 * A read that waits for an index build; CouchDB answers `500 timeout` after its own request timeout (a
 * minute) while it goes on building (a million new tokens take longer): ask again, for up to an hour.
 */
export async function untilBuilt<T>(read: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ServerError && err.error === 'timeout') || i >= 60) throw err;
    }
  }
}

/**
 * On CouchDB, wait (up to 10 minutes) until no index of this database is being built in the background:
 * after a large write its auto-indexer builds every design document's views, and claims timed meanwhile
 * measured that build (a claim took 19 ms right after a 200,000-token build and 97 ms 30 s later, with
 * four indexer tasks running on the database).
 */
export async function indexersDone(db: Database): Promise<void> {
  for (let i = 0; i < 600; i++) {
    let tasks: { type?: string; database?: string }[];
    try {
      tasks = (await db.server.request<{ type?: string; database?: string }[]>('GET', '/_active_tasks')).body;
    } catch {
      return; // not CouchDB (the embedded server has no background indexer), or not an admin
    }
    if (!Array.isArray(tasks) || !tasks.some((t) => t.type === 'indexer' && String(t.database ?? '').includes(`/${db.name}.`))) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export async function dropDb(db: Database): Promise<void> {
  try { await db.destroy(); } catch { /* gone already */ }
}
