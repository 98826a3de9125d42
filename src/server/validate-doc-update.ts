import vm from 'node:vm';
import type { SecurityObject } from './security.js';
import type { UserCtx } from './users.js';

/**
 * `validate_doc_update` functions of design documents, run on every write as CouchDB runs them:
 * `throw({forbidden: ...})` refuses with 403, `throw({unauthorized: ...})` with 401, per document in
 * `_bulk_docs`. The functions of a database are compiled once and kept until a design document of that
 * database is written (callers call `forget`), so a database without any (picas's own) pays one map lookup
 * per write. (pouchdb-validation reads every design document and compiles its code on every write.)
 */
export class DocRefusal extends Error {
  constructor(readonly status: number, readonly error: string, reason: string) { super(reason); }
}

type Validator = (newDoc: unknown, oldDoc: unknown, userCtx: unknown, secObj: unknown) => void;

export class ValidatorCache {
  private readonly byDb = new Map<string, Promise<Validator[]>>();

  forget(dbName: string): void {
    this.byDb.delete(dbName);
  }

  async validators(dbName: string, db: any): Promise<Validator[]> {
    let p = this.byDb.get(dbName);
    if (!p) {
      p = load(db).catch((err) => { this.byDb.delete(dbName); throw err; });
      this.byDb.set(dbName, p);
    }
    return p;
  }

  /**
   * Check one document about to be written (not design or local documents: CouchDB lets database admins
   * write those, checked elsewhere). `oldDoc` is read only when there are functions to run.
   */
  async check(dbName: string, db: any, doc: Record<string, unknown>, user: UserCtx, sec: SecurityObject): Promise<void> {
    const id = typeof doc._id === 'string' ? doc._id : '';
    if (id.startsWith('_design/') || id.startsWith('_local/')) return;
    const fns = await this.validators(dbName, db);
    if (fns.length === 0) return;
    let oldDoc: unknown = null;
    if (id) {
      try { oldDoc = await db.get(id, { revs: true }); } catch { oldDoc = null; }
    }
    const userCtx = { db: dbName, name: user.name, roles: user.roles };
    for (const fn of fns) {
      try {
        fn(JSON.parse(JSON.stringify(doc)), oldDoc === null ? null : JSON.parse(JSON.stringify(oldDoc)), userCtx, sec);
      } catch (e) {
        const thrown = e as { forbidden?: unknown; unauthorized?: unknown; message?: unknown } | undefined;
        if (thrown && typeof thrown === 'object' && thrown.forbidden !== undefined) throw new DocRefusal(403, 'forbidden', String(thrown.forbidden));
        if (thrown && typeof thrown === 'object' && thrown.unauthorized !== undefined) throw new DocRefusal(401, 'unauthorized', String(thrown.unauthorized));
        throw new DocRefusal(500, 'render_error', `validate_doc_update failed: ${String(thrown?.message ?? e)}`);
      }
    }
  }
}

async function load(db: any): Promise<Validator[]> {
  const res = await db.allDocs({ startkey: '_design/', endkey: '_design0', include_docs: true });
  const out: Validator[] = [];
  for (const row of res.rows as { doc?: { validate_doc_update?: unknown } }[]) {
    const code = row.doc?.validate_doc_update;
    if (typeof code !== 'string') continue;
    out.push(compileFunction(code, 'validate_doc_update') as Validator);
  }
  return out;
}

/** Helpers CouchDB gives design-document code. */
const PRELUDE = `
var log = function () {};
var sum = function (a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; return s; };
var isArray = Array.isArray;
var toJSON = JSON.stringify;
`;

/** Compile a function's source text in a context of its own; throws a SyntaxError for bad code. */
export function compileFunction(source: string, what: string): (...args: unknown[]) => unknown {
  const context = vm.createContext({});
  const fn = new vm.Script(`${PRELUDE}\n(${source}\n)`, { filename: what }).runInContext(context, { timeout: 1000 });
  if (typeof fn !== 'function') throw new SyntaxError(`${what} is not a function`);
  return fn as (...args: unknown[]) => unknown;
}
