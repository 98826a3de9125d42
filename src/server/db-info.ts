import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `GET /db` in CouchDB 3's shape. PouchDB counts live documents but not deleted ones, so `doc_del_count`
 * is kept here per database: one pass over the changes feed on first ask, then only the changes since the
 * last ask (the ids of deleted documents are remembered, so a document deleted and re-created counts right).
 */
const START = Date.now() * 1000;

interface DeletedState { seq: number | string; deleted: Set<string>; busy?: Promise<void> }

export class DbInfo {
  private readonly states = new Map<string, DeletedState>();

  constructor(private readonly dataDir: string) {}

  forget(dbName: string): void {
    this.states.delete(dbName);
  }

  private async deletedCount(dbName: string, db: any): Promise<number> {
    let s = this.states.get(dbName);
    if (!s) { s = { seq: 0, deleted: new Set() }; this.states.set(dbName, s); }
    const state = s;
    // One catch-up at a time per database; later askers wait for it and then catch up themselves.
    while (state.busy) await state.busy;
    state.busy = (async () => {
      for (;;) {
        const page = await db.changes({ since: state.seq, limit: 10_000, style: 'main_only', return_docs: true });
        for (const r of page.results as { id: string; deleted?: boolean }[]) {
          if (r.id.startsWith('_local/')) continue;
          if (r.deleted) state.deleted.add(r.id); else state.deleted.delete(r.id);
        }
        state.seq = page.last_seq;
        if (page.results.length < 10_000) break;
      }
    })().finally(() => { state.busy = undefined; });
    await state.busy;
    return state.deleted.size;
  }

  async info(dbName: string, fileName: string, db: any): Promise<Record<string, unknown>> {
    const [info, deleted, file] = await Promise.all([db.info(), this.deletedCount(dbName, db), folderSize(join(this.dataDir, fileName))]);
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
