/**
 * The `picas` field picas keeps in a token beside the original's fields (the Python client and its views
 * ignore it): who holds the token now, and what earlier attempts left behind.
 */

/** What picas records in a token it holds, beside the original's lock fields (the Python client ignores it). */
export interface AttemptRecord {
  attempt: string;
  pilot: string;
  host: string;
  job?: string;
  /** Server epoch seconds when claimed. */
  claimed_at: number;
  /** Server epoch seconds when the lease ends, unless renewed. */
  lease_until: number;
}

/** A result that arrived from an attempt that no longer held the token: kept for people, never applied. */
export interface StaleAttempt {
  attempt: string;
  pilot: string;
  host: string;
  recorded_at: number;
  exit_code?: unknown;
  note: string;
}
