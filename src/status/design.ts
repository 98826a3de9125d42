import type { Database } from '../couch/database.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../couch/errors.js';
import { ensureDesignDoc, type DesignSpec } from '../tokens/design.js';

/**
 * The views `picas status` and the dashboard read besides the state views: finished tokens by the time
 * they finished (the completion rate over the last minutes, read as a bounded range) and failed ones by
 * the same time (the most recent errors). A design document of their own: adding them never rebuilds
 * `Monitor` (the Python client's) or `_design/picas` (whose `leases` view claims read). CouchDB keeps both
 * views in one index, updated once per token write; bench/status-views.ts measures what that costs.
 */
export const STATUS_DESIGN: DesignSpec = {
  name: 'picas-status',
  views: {
    finished: {
      map: 'function(doc) {\n  if (doc.type == "token" && doc.lock > 0 && doc.done > 0) {\n    emit(doc.done, parseInt(doc.exit_code) == 0 ? 0 : 1);\n  }\n}',
    },
    errors: {
      map: 'function(doc) {\n  if (doc.type == "token" && doc.lock > 0 && doc.done > 0 && parseInt(doc.exit_code) != 0) {\n    emit(doc.done, null);\n  }\n}',
    },
  },
};

/**
 * Query a view of the status design document, creating the document first when it is missing. Returns
 * undefined when it is missing and this user may not create it (only database admins write design
 * documents): status then shows what it can without it.
 */
export async function queryStatusView<T>(db: Database, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  try {
    await ensureDesignDoc(db, STATUS_DESIGN);
  } catch (err) {
    if (err instanceof UnauthorizedError || err instanceof ForbiddenError) return undefined;
    throw err;
  }
  return run();
}
