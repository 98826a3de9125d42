import { DocRefusal, compileFunction } from './validate-doc-update.js';

/**
 * What CouchDB refuses in a document before storing it, with its error names and reasons: a body that is
 * not an object, ids under `_` other than `_design/` and `_local/`, unknown `_` members, malformed
 * revisions, and design documents whose functions do not compile.
 */
const SPECIAL_MEMBERS = new Set(['_id', '_rev', '_attachments', '_deleted', '_revisions', '_revs_info', '_conflicts', '_deleted_conflicts', '_local_seq', '_removed']);
const REV = /^\d+-[0-9a-zA-Z]+$/;

export function checkDocBody(body: unknown): asserts body is Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Document must be a JSON object');
}

export function checkDocId(id: unknown): void {
  if (typeof id !== 'string') throw new DocRefusal(400, 'illegal_docid', 'Document id must be a string');
  if (id === '') throw new DocRefusal(400, 'illegal_docid', 'Document id must not be empty');
  if (id.startsWith('_') && !id.startsWith('_design/') && !id.startsWith('_local/')) {
    throw new DocRefusal(400, 'illegal_docid', 'Only reserved document ids may start with underscore.');
  }
}

export function checkDocMembers(doc: Record<string, unknown>): void {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('_') && !SPECIAL_MEMBERS.has(k)) throw new DocRefusal(400, 'doc_validation', `Bad special document member: ${k}`);
  }
  if (doc._rev !== undefined && (typeof doc._rev !== 'string' || !REV.test(doc._rev))) throw new DocRefusal(400, 'bad_request', 'Invalid rev format');
  if (typeof doc._id === 'string' && doc._id.startsWith('_design/') && doc._deleted !== true) checkDesignDoc(doc);
}

const BUILTIN_REDUCE = /^_(count|sum|stats|approx_count_distinct)$/;

/** A design document as CouchDB checks it when it is saved: a map with a syntax error is a 400 `compilation_error`. */
export function checkDesignDoc(doc: Record<string, unknown>): void {
  const language = doc.language ?? 'javascript';
  for (const field of ['views', 'filters', 'shows', 'lists', 'updates', 'options']) {
    const v = doc[field];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
      throw new DocRefusal(400, 'invalid_design_doc', `\`${field}\` field must have object type`);
    }
  }
  if (language !== 'javascript') return;
  const views = (doc.views ?? {}) as Record<string, unknown>;
  for (const [name, view] of Object.entries(views)) {
    if (!view || typeof view !== 'object' || Array.isArray(view)) throw new DocRefusal(400, 'invalid_design_doc', `View ${name} must be an object`);
    const { map, reduce } = view as { map?: unknown; reduce?: unknown };
    if (typeof map !== 'string') throw new DocRefusal(400, 'invalid_design_doc', `View ${name} must have a map function (a string)`);
    compileOrRefuse(map, `Compilation of the map function in the '${name}' view failed`);
    if (reduce !== undefined) {
      if (typeof reduce !== 'string') throw new DocRefusal(400, 'invalid_design_doc', `The reduce of view ${name} must be a string`);
      if (!BUILTIN_REDUCE.test(reduce)) compileOrRefuse(reduce, `Compilation of the reduce function in the '${name}' view failed`);
    }
  }
  for (const [name, code] of Object.entries((doc.filters ?? {}) as Record<string, unknown>)) {
    if (typeof code === 'string') compileOrRefuse(code, `Compilation of the filter function '${name}' failed`);
  }
  if (doc.validate_doc_update !== undefined) {
    if (typeof doc.validate_doc_update !== 'string') throw new DocRefusal(400, 'invalid_design_doc', '`validate_doc_update` must be a string');
    compileOrRefuse(doc.validate_doc_update, 'Compilation of the validate_doc_update function failed');
  }
}

function compileOrRefuse(code: string, what: string): void {
  try {
    compileFunction(code, what);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    throw new DocRefusal(400, 'compilation_error', `${what}: ${e.name ?? 'Error'}: ${e.message ?? String(err)} (${code})`);
  }
}
