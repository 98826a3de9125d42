import type { FarmStatus } from './farm-status.js';
import { bar, clip, count, duration, localTime, printable } from './format.js';

export interface RenderOptions {
  /** Terminal width in columns (default 100). */
  width?: number;
  color?: boolean;
  /** Most pilots listed (the rest are counted). */
  maxPilots?: number;
}

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

/** `picas status` as lines of text: progress, rate and ETA, pilots, expired leases, recent errors. */
export function renderStatus(s: FarmStatus, options: RenderOptions = {}): string[] {
  const width = Math.max(60, options.width ?? 100);
  const c = options.color ?? false;
  const lines: string[] = [];
  const finished = s.done + s.error;
  const fraction = s.total > 0 ? finished / s.total : 0;
  lines.push(`${paint(c, '1', s.database)}: ${count(s.total)} tokens${s.total ? `, ${(fraction * 100).toFixed(1)}% finished` : ''}   ${localTime(s.time)}`);
  const barWidth = Math.min(50, width - 20);
  lines.push(`[${paint(c, '32', bar(fraction, barWidth, !c))}] ${(fraction * 100).toFixed(1).padStart(5)}%`);
  lines.push(`  ${paint(c, '32', 'done')} ${count(s.done)}   ${paint(c, '31', 'error')} ${count(s.error)}   ${paint(c, '33', 'locked')} ${count(s.locked)}   todo ${count(s.todo)}`);
  if (s.rate) {
    const eta = s.etaSeconds === undefined ? (s.todo + s.locked > 0 ? 'no estimate (nothing finished lately)' : '-')
      : s.etaSeconds === 0 ? 'finished' : `${duration(s.etaSeconds)} (about ${localTime(s.time + s.etaSeconds).slice(11, 16)})`;
    lines.push(`rate ${s.rate.perMinute < 10 ? s.rate.perMinute.toFixed(1) : Math.round(s.rate.perMinute)} tokens/min over the last ${duration(s.rate.windowSeconds)}   ETA ${eta}`);
  } else {
    lines.push('rate and ETA: not available (the picas-status views are missing; a database admin creates them with `picas status` or `picas views`)');
  }
  if (s.index.catchingUp) {
    lines.push(paint(c, '33', `index catching up: about ${count(s.index.indexLag)} changes not indexed yet; counts are from the index as it is`));
  } else if (!s.index.consistent) {
    lines.push(paint(c, '33', 'counts read while many tokens changed: they may not add up exactly; ask again'));
  }
  const draining = s.pilots.filter((p) => p.state === 'draining').length;
  lines.push('');
  lines.push(`pilots: ${s.pilots.length} active${draining ? ` (${draining} draining)` : ''}${s.pilotsEnded ? `, ${s.pilotsEnded} ended` : ''}`);
  const shown = s.pilots.slice(0, options.maxPilots ?? 20);
  if (shown.length) {
    const rows = shown.map((p) => {
      const cur = p.current.length === 0 ? 'idle'
        : `${clip(printable(p.current[0]!.id), 28)}${p.current[0]!.since ? ` (${duration((p.lastBeat ?? s.time) - p.current[0]!.since)})` : ''}${p.current.length > 1 ? ` +${p.current.length - 1}` : ''}`;
      return [clip(p.id, 14), clip(printable(p.host), 16), clip(printable(p.job ?? '-'), 12), p.done === undefined ? '-' : count(p.done), cur,
        p.lastBeat ? `${duration(s.time - p.lastBeat)} ago` : `lease ${duration(p.aliveUntil - s.time)}`, p.state === 'draining' ? 'draining' : ''];
    });
    const head = ['PILOT', 'HOST', 'JOB', 'DONE', 'RUNNING (AT HEARTBEAT)', 'HEARTBEAT', ''];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
    for (const r of [head, ...rows]) lines.push(`  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}`);
    if (s.pilots.length > shown.length) lines.push(`  … and ${s.pilots.length - shown.length} more`);
  }
  if (s.expired.count > 0) {
    lines.push('');
    lines.push(paint(c, '33', `expired leases: ${s.expired.count}${s.expired.more ? '+' : ''} locked token(s) whose pilot stopped renewing; pilots take them over, \`picas reset --expired\` puts them back now`));
  }
  if (s.errors && s.errors.length) {
    lines.push('');
    lines.push(`recent errors (${count(s.error)} in all; \`picas status --tokens error\` lists them, \`picas show <id>\` shows one):`);
    for (const e of s.errors) {
      lines.push(`  ${paint(c, '31', clip(printable(e.id), 40))}  exit ${printable(String(e.exitCode))}  ${localTime(e.at)}${e.host ? `  ${clip(printable(e.host), 20)}` : ''}`);
      // The last two lines (most often the exception or the message that says what went wrong).
      for (const l of e.tail.split('\n').filter((x) => x.trim()).slice(-2)) lines.push(`      ${clip(printable(l), width - 6)}`);
    }
  }
  return lines;
}
