import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import PouchDB from 'pouchdb-node';

/**
 * The server's own records (user accounts, each database's `_security`), in PouchDB databases kept in
 * `<dataDir>/_picas/`, apart from the users' databases: they never appear in `/_all_dbs` and no HTTP route
 * reaches them except through users.ts and security.ts.
 */
export interface InternalStore {
  users: any;
  security: any;
  close(): Promise<void>;
}

export function openInternalStore(dataDir: string): InternalStore {
  const dir = join(dataDir, '_picas');
  mkdirSync(dir, { recursive: true });
  const users = new PouchDB(join(dir, 'users'));
  const security = new PouchDB(join(dir, 'security'));
  return {
    users,
    security,
    close: async () => { await Promise.allSettled([users.close(), security.close()]); },
  };
}
