import { toJson } from '../couch/json.js';
/** One CSV cell: text as is, numbers and booleans printed, nothing empty, objects and lists as JSON. */
function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return toJson(value);
}

/** One CSV line (RFC 4180): cells quoted when they hold a comma, quote or line break. */
export function csvLine(values: unknown[]): string {
  return `${values.map((v) => {
    const text = cellText(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }).join(',')}\n`;
}
