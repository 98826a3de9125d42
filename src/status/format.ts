/** Small text formats shared by the terminal and the dashboard's server side. */

/** `1h 02m`, `3m 10s`, `42s`. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 10 && seconds > 0 && !Number.isInteger(seconds)) return `${Math.max(0.1, Math.round(seconds * 10) / 10).toFixed(1)}s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** A local date and time for epoch seconds: `2026-11-30 21:04:05`. */
export function localTime(epochSeconds: number | undefined): string {
  if (!epochSeconds) return '-';
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `12,345`. */
export const count = (n: number): string => n.toLocaleString('en-US');

/** A progress bar of `width` cells: done (and error) filled, the rest empty. */
export function bar(fraction: number, width: number, ascii = false): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(f * width);
  const partial = ascii ? '' : ' ▏▎▍▌▋▊▉'[Math.floor((f * width - full) * 8)] ?? '';
  const filled = (ascii ? '#' : '█').repeat(full) + (full < width ? partial.trim() : '');
  return filled + (ascii ? '.' : '░').repeat(Math.max(0, width - [...filled].length));
}

/** A string cut to `n` characters with an ellipsis. */
export function clip(text: string, n: number): string {
  return [...text].length > n ? `${[...text].slice(0, Math.max(0, n - 1)).join('')}…` : text;
}

/** Control characters (terminal escapes in a token's stderr) shown as visible codes, not obeyed. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
