import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `GET /db` in CouchDB 3's shape. PouchDB counts live documents but not deleted ones, so `doc_del_count`
 * is kept here per database from the changes feed: the ids of deleted documents are remembered (so a
 * document deleted and re-created counts right) and only the changes since the last ask are read. A
 * database more than INLINE (1,000) changes ahead of what was read (the first ask on a large database) is read in the
 * background, and `doc_del_count` is `null` ("not known yet") until then, so `GET /db` stays quick.
 */
const START = Date.now() * 1000;
const PAGE = 10_000;
/** At most this many changes are read while a `GET /db` waits. */
const INLINE = 1_000;

interface DeletedState { seq: number | string; deleted: Set<string>; busy?: Promise<void> }

export class DbInfo {
  private readonly states = new Map<string, DeletedState>();

  constructor(private readonly dataDir: string) {}

  forget(dbName: string): void {
    this.states.delete(dbName);
  }

  /** Read the changes after what was read, one page at a time, until none are left. */
  private catchUp(state: DeletedState, db: any): Promise<void> {
    state.busy ??= (async () => {
      for (;;) {
        const page = await db.changes({ since: state.seq, limit: PAGE, style: 'main_only', return_docs: true });
        const results = Array.isArray(page?.results) ? page.results as { id: string; deleted?: boolean }[] : [];
        for (const r of results) {
          if (r.id.startsWith('_local/')) continue;
          if (r.deleted) state.deleted.add(r.id); else state.deleted.delete(r.id);
        }
        if (page?.last_seq !== undefined) state.seq = page.last_seq;
        if (results.length < PAGE) break;
      }
    })().finally(() => { state.busy = undefined; });
    return state.busy;
  }

  private async deletedCount(dbName: string, db: any, updateSeq: number): Promise<number | null> {
    let state = this.states.get(dbName);
    if (!state) { state = { seq: 0, deleted: new Set() }; this.states.set(dbName, state); }
    const behind = updateSeq - Number(state.seq);
    if (state.busy || !Number.isFinite(behind) || behind > INLINE) {
      this.catchUp(state, db).catch(() => undefined);
      return null;
    }
    await this.catchUp(state, db);
    return state.deleted.size;
  }

  async info(dbName: string, fileName: string, db: any): Promise<Record<string, unknown>> {
    const info = await db.info();
    const [deleted, file] = await Promise.all([this.deletedCount(dbName, db, Number(info.update_seq)), folderSize(join(this.dataDir, fileName))]);
    return {
      instance_start_time: String(START),
      db_name: dbName,
      purge_seq: 0,
      update_seq: info.update_seq,
      sizes: { file, external: 0, active: 0 },
      props: {},
      doc_del_count: deleted,
      doc_count: info.doc_count,
      disk_format_version: 8,
      compact_running: false,
      cluster: { q: 1, n: 1, w: 1, r: 1 },
    };
  }
}

async function folderSize(dir: string): Promise<number> {
  try {
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
    return total;
  } catch {
    return 0;
  }
}
