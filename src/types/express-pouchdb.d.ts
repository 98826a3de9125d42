declare module 'express-pouchdb' {
  import type { Express } from 'express';
  function expressPouchDB(pouchdb: unknown, options?: Record<string, unknown>): Express & { setPouchDB(p: unknown): Promise<void> };
  export default expressPouchDB;
}
declare module 'pouchdb-node' {
  const PouchDB: any;
  export default PouchDB;
}
