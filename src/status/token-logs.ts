import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { logAttachmentNames } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';

export interface TokenLogs {
  stdout?: string;
  stderr?: string;
}

/** A token's stdout and stderr logs (the attachments a pilot stores), read one request each. */
export async function readLogs(db: Database, token: Token): Promise<TokenLogs> {
  const names = logAttachmentNames(token._id);
  const read = async (name: string): Promise<string | undefined> => {
    const att = token._attachments?.[name];
    if (!att) return undefined;
    if (att.data) return Buffer.from(att.data, 'base64').toString('utf8');
    try {
      return (await db.getAttachment(token._id, name)).toString('utf8');
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };
  const [stdout, stderr] = await Promise.all([read(names.out), read(names.err)]);
  return { ...(stdout !== undefined ? { stdout } : {}), ...(stderr !== undefined ? { stderr } : {}) };
}

/** The last `lines` lines of a log, and how many lines were left out before them. */
export function lastLines(text: string, lines: number): { text: string; omitted: number } {
  const all = text.replace(/\n$/, '').split('\n');
  if (all.length <= lines) return { text: all.join('\n'), omitted: 0 };
  return { text: all.slice(-lines).join('\n'), omitted: all.length - lines };
}
