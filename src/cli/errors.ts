import {
  BadRequestError, ConflictError, CouchError, ForbiddenError, NotCouchDBError, NotFoundError, TimeoutError, TlsError,
  UnauthorizedError, UnreachableError,
} from '../couch/errors.js';
import { ConfigError } from '../config/errors.js';
import { PromptCancelled } from '../config/prompt.js';
import { EXIT } from './exit-codes.js';

/** A user-facing failure: one line of what failed and what to do, plus the exit code. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'UserError';
  }
}

/** Turn any error into one clear line (what failed, where, what to do) and an exit code. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UserError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof ConfigError) return { message: err.message, exitCode: EXIT.config };
  if (err instanceof PromptCancelled) return { message: err.message, exitCode: EXIT.interrupted };
  if (err instanceof TlsError) {
    return { message: `${err.message}. Give the server's CA with --ca-file, or (unsafe) --insecure to skip verification.`, exitCode: EXIT.unreachable };
  }
  if (err instanceof UnreachableError) {
    return { message: `${err.message}. Is the server running and the URL right? (set PICAS_HOST_URL or --url; \`picas serve\` starts the embedded one)`, exitCode: EXIT.unreachable };
  }
  if (err instanceof TimeoutError) {
    return { message: `${err.message}. The server is slow or unreachable; raise --timeout or check the server.`, exitCode: EXIT.unreachable };
  }
  if (err instanceof NotCouchDBError) {
    return { message: `${err.message}. Check that the URL points at CouchDB itself (scheme, host, port).`, exitCode: EXIT.unreachable };
  }
  if (err instanceof UnauthorizedError) {
    return { message: `${err.where}: wrong user name or password (401). Check PICAS_USERNAME/PICAS_PASSWORD or ~/.config/picas/conf.yml.`, exitCode: EXIT.auth };
  }
  if (err instanceof ForbiddenError) {
    return { message: `${err.where}: not allowed (403 ${err.error}${err.reason ? `: ${err.reason}` : ''}). Ask the database's admin to add your user as a member.`, exitCode: EXIT.auth };
  }
  if (err instanceof NotFoundError) {
    return { message: `${err.where}: not found (404${err.reason ? `: ${err.reason}` : ''}). Check the database name (PICAS_DATABASE, --database) and the view name.`, exitCode: EXIT.notFound };
  }
  if (err instanceof ConflictError) {
    return { message: `${err.where}: conflict (409): the document changed meanwhile; run the command again.`, exitCode: EXIT.failure };
  }
  if (err instanceof BadRequestError) {
    return { message: `${err.where}: bad request (400 ${err.error}${err.reason ? `: ${err.reason}` : ''})`, exitCode: EXIT.failure };
  }
  if (err instanceof CouchError) return { message: err.message, exitCode: EXIT.failure };
  if (err instanceof TypeError && /URL/.test(err.message)) return { message: err.message, exitCode: EXIT.config };
  if (err instanceof Error) return { message: err.message, exitCode: EXIT.failure };
  return { message: String(err), exitCode: EXIT.failure };
}
