import { UserError } from './errors.js';
import { EXIT } from './exit-codes.js';

/**
 * A token id given on the command line. Ids starting with `_` (`_design/...`, `_local/...`, `_all_docs`)
 * are documents or resources of CouchDB's, never tokens: refused before any request.
 */
export function checkTokenId(id: string): string {
  if (id.startsWith('_')) throw new UserError(`${JSON.stringify(id)} starts with "_", which CouchDB reserves for its own documents: it is not a token id.`, EXIT.usage);
  return id;
}
