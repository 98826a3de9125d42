import { readFileSync } from 'node:fs';
import type { Database, Doc } from '../../src/couch/database.js';
import type { TokenState } from '../../src/tokens/state.js';

export interface PythonDbFixture {
  design: Doc & { views: Record<string, { map: string; reduce?: string }> };
  docs: Doc[];
  expectedStates: Record<string, TokenState | null>;
  expectedCounts: Record<TokenState, number>;
}

/** The committed database as the Python client writes it (fixtures/python-db.json). */
export function pythonDbFixture(): PythonDbFixture {
  return JSON.parse(readFileSync(new URL('./fixtures/python-db.json', import.meta.url), 'utf8')) as PythonDbFixture;
}

/** Write the fixture's design document and documents (logs as inline attachments) into `db`. */
export async function loadPythonDb(db: Database): Promise<PythonDbFixture> {
  const fixture = pythonDbFixture();
  await db.put(fixture.design);
  const results = await db.bulkDocs(fixture.docs);
  const failed = results.filter((r) => r.error);
  if (failed.length) throw new Error(`fixture load failed: ${JSON.stringify(failed)}`);
  return fixture;
}
