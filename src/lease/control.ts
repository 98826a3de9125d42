import type { Database, Doc } from '../couch/database.js';
import { ConflictError } from '../couch/errors.js';
import { CONTROL_DOC_ID, heartbeatId } from './heartbeat.js';

/**
 * Ask pilots to drain, through the database: every pilot (the `picas-control` document) or one pilot (its
 * heartbeat document). Pilots read these at each lease renewal.
 */
export async function setDrain(db: Database, drain: boolean, pilotId?: string): Promise<void> {
  const id = pilotId ? heartbeatId(pilotId) : CONTROL_DOC_ID;
  for (let i = 0; i < 10; i++) {
    const current = await db.find<Doc & { drain?: boolean }>(id);
    if (!current && pilotId) throw new Error(`no pilot ${pilotId} in database ${db.name}`);
    try {
      await db.put({ ...(current ?? { _id: id, type: 'picas-control' }), drain });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new Error(`could not write ${id}: it kept changing`);
}
