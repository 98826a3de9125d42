/**
 * Snakemake's cluster job scripts. Snakemake 7 writes one shell script per job and passes its path to the
 * submit command; the script's second line carries the job's properties as JSON
 * (`# properties = {"type": "single", "rule": "...", "jobid": 3, "threads": 1, ...}`).
 */
export interface JobProperties {
  rule?: string;
  jobid?: number | string;
  [key: string]: unknown;
}

const PROPERTIES_LINE = /^#\s*properties\s*=\s*(.*)$/m;

/** The job's properties from a job script, or `{}` when it has none (a hand-written script). */
export function jobProperties(script: string): JobProperties {
  const match = PROPERTIES_LINE.exec(script);
  if (!match) return {};
  try {
    const parsed = JSON.parse(match[1]!) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as JobProperties : {};
  } catch {
    return {};
  }
}

/** A rule name as it may appear in a token id (Snakemake's rule names are identifiers; anything else is dropped). */
export function idPart(value: unknown): string {
  return String(value ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
}
