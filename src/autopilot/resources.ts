import type { Database } from '../couch/database.js';
import type { Token } from '../tokens/token.js';

/**
 * What a pilot for a view asks the batch system for. Token fields (documented in examples/slurm/README.md):
 * `cores` (CPUs one token needs), `memory` (Slurm's --mem syntax: a number of MB, or with K/M/G/T) and
 * `walltime` (Slurm's --time syntax: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS).
 */
export interface PilotResources {
  cores: number;
  /** Slurm --mem value, e.g. `4096M`; undefined: the batch system's default. */
  memory?: string;
  /** Slurm --time value, e.g. `01:30:00`; undefined: the job script's own limit. */
  walltime?: string;
}

/** How many todo tokens of a view are read to learn what its pilots need (the largest ask wins). */
export const RESOURCE_SAMPLE = 50;

export class ResourceFieldError extends Error {
  constructor(message: string) { super(message); this.name = 'ResourceFieldError'; }
}

/** Megabytes from Slurm's memory syntax (`4000`, `4G`, `512M`, `1.5G`); throws on anything else. */
export function parseMemoryMB(value: unknown, where: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$/i.exec(String(value));
  if (!m) throw new ResourceFieldError(`${where}: memory ${JSON.stringify(value)} is not a size like 4000 (MB), 512M or 4G`);
  const factor = { '': 1, K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.ceil(Number(m[1]) * factor);
}

/** Seconds from Slurm's time syntax; throws on anything else. */
export function parseWalltimeSeconds(value: unknown, where: string): number {
  const text = String(value).trim();
  const bad = () => new ResourceFieldError(`${where}: walltime ${JSON.stringify(value)} is not a Slurm time like 90 (minutes), 01:30:00 or 2-00:00:00`);
  if (!/^[\d:-]+$/.test(text)) throw bad();
  let days = 0;
  let rest = text;
  if (text.includes('-')) {
    const [d, r] = text.split('-');
    if (!d || r === undefined || !/^\d+$/.test(d)) throw bad();
    days = Number(d);
    rest = r;
    // With days: hours, hours:minutes, hours:minutes:seconds.
    const parts = rest.split(':').map(Number);
    if (parts.length > 3 || parts.some((p) => !Number.isInteger(p))) throw bad();
    const [h = 0, mi = 0, s = 0] = parts;
    return ((days * 24 + h) * 60 + mi) * 60 + s;
  }
  const parts = rest.split(':').map(Number);
  if (parts.some((p) => !Number.isInteger(p))) throw bad();
  if (parts.length === 1) return parts[0]! * 60;
  if (parts.length === 2) return parts[0]! * 60 + parts[1]!;
  if (parts.length === 3) return (parts[0]! * 60 + parts[1]!) * 60 + parts[2]!;
  throw bad();
}

/** Seconds as Slurm's `[D-]HH:MM:SS`. */
export function formatWalltime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
  return d ? `${d}-${hms}` : hms;
}

/**
 * The resources for a view's pilots: the largest `cores`, `memory` and `walltime` among the first
 * RESOURCE_SAMPLE tokens of the view; where no token says, the given defaults (configuration).
 */
export async function viewResources(
  db: Database,
  design: string,
  view: string,
  defaults: { cores?: number; memory?: string; walltime?: string } = {},
): Promise<PilotResources> {
  const rows = (await db.view<unknown, Token>(design, view, { include_docs: true, limit: RESOURCE_SAMPLE })).rows;
  let cores: number | undefined;
  let memoryMB: number | undefined;
  let walltimeS: number | undefined;
  for (const row of rows) {
    const t = row.doc as (Token & { cores?: unknown; memory?: unknown; walltime?: unknown }) | undefined;
    if (!t) continue;
    const where = `token ${t._id} in ${design}/${view}`;
    if (t.cores !== undefined && t.cores !== null && t.cores !== '') {
      const c = Number(t.cores);
      if (!Number.isInteger(c) || c < 1) throw new ResourceFieldError(`${where}: cores ${JSON.stringify(t.cores)} is not a whole number >= 1`);
      cores = Math.max(cores ?? 0, c);
    }
    if (t.memory !== undefined && t.memory !== null && t.memory !== '') memoryMB = Math.max(memoryMB ?? 0, parseMemoryMB(t.memory, where));
    if (t.walltime !== undefined && t.walltime !== null && t.walltime !== '') walltimeS = Math.max(walltimeS ?? 0, parseWalltimeSeconds(t.walltime, where));
  }
  return {
    cores: cores ?? defaults.cores ?? 1,
    memory: memoryMB !== undefined ? `${memoryMB}M` : defaults.memory,
    walltime: walltimeS !== undefined ? formatWalltime(walltimeS) : defaults.walltime,
  };
}
