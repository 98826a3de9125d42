import { Script } from 'node:vm';
import type { Database, Doc } from '../couch/database.js';
import type { ViewRef } from '../claim/claim.js';

/**
 * Check that the map functions of the views a pilot claims from at least compile. A design document broken
 * by hand fails differently per server: CouchDB answers every query with an error, the embedded server
 * skips each document and answers with an empty view, so a pilot would see "nothing to do" and leave the
 * tokens untouched without a word. The code is only parsed here, never run.
 * Returns one line saying what is wrong and what to do, or undefined when every view compiles.
 */
export async function brokenViewCode(db: Database, views: ViewRef[]): Promise<string | undefined> {
  for (const design of [...new Set(views.map((v) => v.design))]) {
    const doc = await db.find<Doc & { views?: Record<string, { map?: unknown }> }>(`_design/${design}`);
    if (!doc) continue;
    for (const ref of views.filter((v) => v.design === design)) {
      const map = doc.views?.[ref.view]?.map;
      if (map === undefined) continue;
      if (typeof map !== 'string') return `design document _design/${design} in database "${db.name}": view "${ref.view}" has no map function text; fix the view or delete the design document so picas recreates it`;
      try {
        new Script(`(${map})`, { filename: `_design/${design}/${ref.view}` });
      } catch (err) {
        return `design document _design/${design} in database "${db.name}": the map function of view "${ref.view}" does not compile (${(err as Error).message}); fix it, or delete the design document so picas recreates it`;
      }
    }
  }
  return undefined;
}
