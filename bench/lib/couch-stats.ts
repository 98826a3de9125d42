// Where a CouchDB server's time goes during a run: counters of `_node/_local/_stats` read before and after
// (an embedded server without that endpoint gives none). Query-server times are CouchDB's, in microseconds:
// time spent in the JavaScript view server mapping documents (`map`), resetting it and loading a design
// document's functions (`reset`, `add_fun`) before each index update.
import type { CouchServer } from '../../src/couch/server.js';

const COUNTERS = [
  'couchdb.httpd.requests', 'couchdb.httpd.view_reads', 'couchdb.httpd.bulk_requests',
  'couchdb.database_reads', 'couchdb.database_writes',
  'couchdb.mrview.map_doc', 'couchdb.mrview.emits',
  'couchdb.query_server.calls.map', 'couchdb.query_server.calls.reset', 'couchdb.query_server.calls.add_fun',
  'couchdb.query_server.time.map', 'couchdb.query_server.time.reset', 'couchdb.query_server.time.add_fun',
  'couchdb.query_server.acquired_processes',
] as const;

export type StatCounts = Record<string, number>;

export async function readStats(couch: CouchServer): Promise<StatCounts | undefined> {
  try {
    const body = (await couch.request<any>('GET', '/_node/_local/_stats')).body;
    const out: StatCounts = {};
    for (const path of COUNTERS) {
      const v = path.split('.').reduce((o: any, k) => o?.[k], body)?.value;
      if (typeof v === 'number') out[path] = v;
    }
    return Object.keys(out).length ? out : undefined;
  } catch {
    return undefined;
  }
}

/** after - before, per completed token (times in ms per token). */
export function statsPerToken(before: StatCounts | undefined, after: StatCounts | undefined, tokens: number): StatCounts | undefined {
  if (!before || !after) return undefined;
  const out: StatCounts = {};
  for (const k of Object.keys(after)) {
    const d = after[k]! - (before[k] ?? 0);
    const perToken = d / Math.max(1, tokens);
    out[k.replace('couchdb.', '') + (k.includes('.time.') ? ' (ms)' : '')] = Math.round((k.includes('.time.') ? perToken / 1000 : perToken) * 1000) / 1000;
  }
  return out;
}
