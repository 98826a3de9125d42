import type { Database } from '../couch/database.js';
import { ConflictError, NotFoundError } from '../couch/errors.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import { ensureDesignDocs } from '../tokens/design.js';
import { newToken, randomTokenId, type Token } from '../tokens/token.js';
import { idPart, jobProperties, type JobProperties } from './jobscript.js';

/** What picas records about the Snakemake job in its token, beside `properties` (the original's field). */
export interface SnakemakeRecord {
  /** Name of the job script Snakemake wrote (its folder is temporary and local to the submitting host). */
  jobscript: string;
  submitted_at: number;
}

export type SnakemakeToken = Token & { properties: JobProperties; snakemake: SnakemakeRecord };

/**
 * The token for one Snakemake job: its `input` is the whole job script (run by the pilot with `bash -c`),
 * since the script's file is temporary and pilots may run on other hosts; `properties` holds the job's
 * properties, as the original picas profile stores them. The id is new and random (time, counter and 64
 * random bits), prefixed with the rule's name for people reading `picas status --tokens`.
 */
export function snakemakeToken(script: string, jobscriptName: string, now = Date.now()): SnakemakeToken {
  const properties = jobProperties(script);
  const rule = idPart(properties.rule);
  const id = randomTokenId(rule ? `snakemake_${rule}` : 'snakemake');
  return newToken({
    _id: id,
    input: script,
    properties,
    snakemake: { jobscript: jobscriptName, submitted_at: Math.floor(now / 1000) },
  }) as SnakemakeToken;
}

/**
 * Store a job's token and return its id. A database that does not exist yet is created with its views
 * (the first job of a workflow may come before any pilot). Outages are ridden out within `retry`'s patience;
 * a write whose answer was lost and is then refused as a conflict is checked: the token there is ours.
 */
export async function submitToken(db: Database, token: SnakemakeToken, retry: RetryOptions = {}): Promise<string> {
  let attempts = 0;
  const write = async (): Promise<void> => {
    attempts++;
    try {
      await db.put(token);
    } catch (err) {
      if (err instanceof ConflictError && attempts > 1) {
        const stored = await db.find<SnakemakeToken>(token._id);
        if (stored && stored.input === token.input) return;
      }
      throw err;
    }
  };
  try {
    await withRetry(write, retry);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await withRetry(() => db.create({ ifMissing: true }), retry);
    await withRetry(() => ensureDesignDocs(db), retry);
    await withRetry(write, retry);
  }
  return token._id;
}
