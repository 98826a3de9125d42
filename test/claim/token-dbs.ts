import { useTestDb } from '../helpers/couch.js';
import { ensureDesignDocs, newToken } from '../../src/tokens/index.js';

/** Token ids in key order: token_00000, token_00001, ... */
export const tokenId = (i: number): string => `token_${String(i).padStart(5, '0')}`;

/** The default claim view. */
export const TODO = [{ design: 'Monitor', view: 'todo' }];

/** A test file's server, and a fresh database of `count` free tokens (with the Monitor design) per call. */
export function useTokenDbs(label: string) {
  const ctx = useTestDb(label);
  let n = 0;
  return {
    ctx,
    async freshDb(count: number) {
      const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
      await db.create();
      await ensureDesignDocs(db);
      await db.bulkDocs(Array.from({ length: count }, (_, i) => newToken({ _id: tokenId(i) })));
      return db;
    },
  };
}
