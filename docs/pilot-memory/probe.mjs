// Preloaded by measure.mjs --probe (`node --import .../probe.mjs`): samples memory every 25 ms and, at exit, writes the
// sample with the highest RSS (with V8's per-space sizes) and the kernel's peak to $PM_OUT.
import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
let best = null;
function sample() {
  const m = process.memoryUsage();
  if (!best || m.rss > best.rss) {
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, +(s.physical_space_size / 1048576).toFixed(1)]));
    best = { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces };
  }
}
const t = setInterval(sample, 25); t.unref();
process.on('exit', () => {
  sample();
  const mb = (x) => +(x / 1048576).toFixed(1);
  const out = { maxRssMb: +(process.resourceUsage().maxRSS / 1024).toFixed(1), atPeak: { rss: mb(best.rss), heapTotal: mb(best.heapTotal), heapUsed: mb(best.heapUsed), external: mb(best.external), arrayBuffers: mb(best.arrayBuffers), spaces: best.spaces } };
  if (process.env.PM_OUT) writeFileSync(process.env.PM_OUT, JSON.stringify(out));
});
