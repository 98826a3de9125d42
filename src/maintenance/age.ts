/** Seconds in one unit of an age like `90s`, `30m`, `2h`, `1d`. */
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * An age in seconds from `<number><unit>`. A unit is required: the original's reset script took hours,
 * and a bare `2` read as seconds there would reset every running token.
 */
export function parseAge(text: string, option = '--locked-older-than'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/i.exec(text);
  if (!m) throw new RangeError(`${option} must be a number with a unit, e.g. 90s, 30m, 2h or 1d (not ${JSON.stringify(text)})`);
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}
