import type { Database, Doc } from '../couch/database.js';
import { ConflictError } from '../couch/errors.js';
import type { TokenState } from './state.js';

/**
 * The `Monitor` design document (REFERENCE.md section 2) and its variants. The map functions use the
 * views' own loose `==`, the same conditions as the Python client's, so a database set up by either
 * client answers alike.
 */
export const STATE_CONDITIONS: Record<TokenState, string> = {
  todo: 'doc.lock == 0 && doc.done == 0',
  locked: 'doc.lock > 0 && doc.done == 0',
  done: 'doc.lock > 0 && doc.done > 0 && parseInt(doc.exit_code) == 0',
  error: 'doc.lock > 0 && doc.done > 0 && parseInt(doc.exit_code) != 0',
};

export interface ViewDefinition {
  map: string;
  reduce?: string;
}

/** The five views; `extraCondition` (e.g. `doc.cores == 4`) narrows every one of them. */
export function monitorViews(extraCondition?: string): Record<string, ViewDefinition> {
  const base = extraCondition ? `doc.type == "token" && (${extraCondition})` : 'doc.type == "token"';
  const views: Record<string, ViewDefinition> = {};
  for (const [state, condition] of Object.entries(STATE_CONDITIONS)) {
    views[state] = { map: `function(doc) {\n  if (${base}) {\n    if (${condition}) {\n      emit(doc._id, doc._id);\n    }\n  }\n}` };
  }
  const branches = Object.entries(STATE_CONDITIONS)
    .map(([state, condition]) => `    if (${condition}) { emit("${state}", 1); }`).join('\n');
  views.overview_total = { map: `function(doc) {\n  if (${base}) {\n${branches}\n  }\n}`, reduce: '_sum' };
  return views;
}

export interface DesignSpec {
  /** Name without `_design/`, e.g. `Monitor`, `MultiCore`. */
  name: string;
  views: Record<string, ViewDefinition>;
}

export const MONITOR: DesignSpec = { name: 'Monitor', views: monitorViews() };

/** A Monitor-style design document restricted by a condition, like the autopilot's SingleCore/MultiCore. */
export function conditionalMonitor(name: string, condition: string): DesignSpec {
  return { name, views: monitorViews(condition) };
}

/** The design document of picas's own views (leases, attempts); never mixed into `Monitor`. */
export const PICAS_DESIGN: DesignSpec = {
  name: 'picas',
  views: {
    // Locked tokens by the moment their lease ends (server epoch seconds), for recovering dead pilots' work.
    leases: {
      map: 'function(doc) {\n  if (doc.type == "token" && doc.lock > 0 && doc.done == 0 && doc.picas && doc.picas.lease_until) {\n    emit(doc.picas.lease_until, null);\n  }\n}',
    },
  },
};

export interface EnsureResult {
  name: string;
  created: boolean;
  addedViews: string[];
}

/**
 * Create the design document, or add the views it lacks. A view that exists is never rewritten, even
 * when its code differs: a database set up by the Python client keeps its Monitor, and rewriting a view
 * would make CouchDB rebuild its index over every token.
 */
export async function ensureDesignDoc(db: Database, spec: DesignSpec, attempts = 5): Promise<EnsureResult> {
  const id = `_design/${spec.name}`;
  for (let i = 0; ; i++) {
    const existing = await db.find<Doc & { views?: Record<string, ViewDefinition>; language?: string }>(id);
    const views = { ...(existing?.views ?? {}) };
    const added = Object.keys(spec.views).filter((v) => !(v in views));
    if (existing && added.length === 0) return { name: spec.name, created: false, addedViews: [] };
    for (const v of added) views[v] = spec.views[v]!;
    try {
      await db.put({ ...(existing ?? {}), _id: id, language: existing?.language ?? 'javascript', views });
      return { name: spec.name, created: !existing, addedViews: added };
    } catch (err) {
      // Another client created or changed it meanwhile: read again and merge.
      if (err instanceof ConflictError && i < attempts) continue;
      throw err;
    }
  }
}

/** Monitor plus picas's own design document: what every picas database needs. */
export async function ensureDesignDocs(db: Database, extra: DesignSpec[] = []): Promise<EnsureResult[]> {
  const results: EnsureResult[] = [];
  for (const spec of [MONITOR, PICAS_DESIGN, ...extra]) results.push(await ensureDesignDoc(db, spec));
  return results;
}
