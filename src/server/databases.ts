import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// express-pouchdb keeps one PouchDB object per database (and its lock on creation and deletion); routes of
// our own use the same objects through its helpers, so both sides see one database, never two handles.
const { getOrCreateDB } = require('express-pouchdb/lib/create-or-delete-dbs.js') as { getOrCreateDB(P: unknown, name: string): Promise<any> };
const cleanFilename = require('express-pouchdb/lib/clean-filename.js') as (name: string) => string;

/** CouchDB's rule for database names. */
export const DB_NAME = /^[a-z][a-z0-9_$()+/-]*$/;

/** Open an existing database by name, or undefined when there is none (never creates one). */
export async function openExisting(Pouch: any, name: string): Promise<any | undefined> {
  const file = cleanFilename(name);
  const all: string[] = await Pouch.allDbs();
  if (!all.includes(file)) return undefined;
  return getOrCreateDB(Pouch, file);
}
