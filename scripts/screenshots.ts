/**
 * Regenerates the dashboard screenshots in docs/ (and the `picas status` output shown in the README) from
 * a real run: an embedded server, a parameter sweep of 6,000 tokens of which a few percent fail with a
 * traceback, five `picas run` pilots as Slurm array tasks would start them, and `picas dashboard`, shot
 * in headless Chromium mid-run. Takes about three minutes.
 *
 *   npx tsx scripts/screenshots.ts            (needs Debian's chromium, as the browser tests)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnEmbeddedServer, ROOT } from '../test/helpers/couch.js';
import { spawnCli, runCli } from '../test/helpers/cli.js';
import { launchBrowser } from '../test/dashboard/browser.js';
import { startDashboardCli } from '../test/dashboard/dashboard-cli.js';
import { CouchServer } from '../src/couch/server.js';
import { ensureDesignDocs, newToken } from '../src/tokens/index.js';

const RUN_SECONDS = Number(process.env.SHOT_RUN_SECONDS ?? 150);
const work = mkdtempSync(join(tmpdir(), 'picas-shots-'));
const server = await spawnEmbeddedServer({ dataDir: join(work, 'data') });
// Keep this process alive while the server runs (the test helper lets go of it).
server.child.ref();
const couch = new CouchServer({ url: server.url, username: server.username, password: server.password });
const db = couch.db('ocean-mixing-sweep');
await db.create();
await ensureDesignDocs(db);

// A sweep over three parameters; each token runs 0.5-2 s; about 3% diverge and fail with a traceback.
const tokens = [];
let n = 0;
for (const kappa of [0.1, 0.2, 0.5, 1, 2, 5]) {
  for (const res of [64, 128, 256, 512, 1024]) {
    for (let seed = 0; seed < 200; seed++) {
      const id = `mix_k${kappa}_r${res}_s${String(seed).padStart(3, '0')}`;
      const secs = (0.5 + ((n * 7919) % 150) / 100).toFixed(2);
      const fails = n % 33 === 17;
      const input = fails
        ? `sleep ${secs}; echo "kappa=${kappa} res=${res} seed=${seed}: integrating"; printf 'Traceback (most recent call last):\\n  File "mix.py", line 214, in <module>\\n    state = solver.step(state, dt)\\n  File "solver.py", line 88, in step\\n    raise FloatingPointError(f"CFL condition violated at t={t:.2f}")\\nFloatingPointError: CFL condition violated at t=%s (dt=0.05, max |u|=%s)\\n' ${(seed % 40) + 3.25} ${(res / 40).toFixed(1)} >&2; exit 1`
        : `sleep ${secs}; echo "kappa=${kappa} res=${res} seed=${seed}: mixing efficiency $((RANDOM % 100))"`;
      tokens.push(newToken({ _id: id, input, kappa, res, seed }));
      n++;
    }
  }
}
for (let i = 0; i < tokens.length; i += 1000) await db.bulkDocs(tokens.slice(i, i + 1000));

const env = {
  ...process.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: server.username, PICAS_PASSWORD: server.password,
  PICAS_DATABASE: db.name, PICAS_CONFIG_DIR: join(work, 'config'),
};
const pilots = [1, 2, 3, 4, 5].map((i) => spawnCli(['run', '--slots', '3', '--work-dir', join(work, `pilot${i}`)],
  { ...env, SLURM_ARRAY_JOB_ID: '4821734', SLURM_ARRAY_TASK_ID: String(i) }));
const dash = await startDashboardCli(env);
const browser = await launchBrowser({ width: 1440, height: 1100 });
try {
  await new Promise((r) => setTimeout(r, RUN_SECONDS * 1000));
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  await page.goto(dash.url);
  await page.waitForSelector('#live.live:not(.off)', { timeout: 60_000 });
  // Nobody read the state views during the run, so the first status finds them thousands of changes
  // behind and says so while they catch up (counts from the index as it is): shoot the page once they have.
  const t0 = Date.now();
  await page.waitForSelector('#index-note', { state: 'hidden', timeout: 120_000 });
  console.log(`the state views caught up ${((Date.now() - t0) / 1000).toFixed(1)} s after the page opened`);
  await page.locator('#state-tabs button[data-state="error"]').click();
  await page.waitForTimeout(2_500);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ROOT, 'docs/dashboard.png') });
  await page.screenshot({ path: join(ROOT, 'docs/dashboard-full.png'), fullPage: true });
  await page.locator('#errors tbody tr td.id a').first().click();
  await page.locator('#detail pre[data-log="stderr"]').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(ROOT, 'docs/dashboard-token.png') });
  const status = await runCli(['status'], { ...env, COLUMNS: '110' });
  writeFileSync(join(ROOT, 'docs/status-output.txt'), status.stdout);
  console.log(status.stdout);
} finally {
  await browser.close();
  dash.child.kill('SIGTERM');
  for (const p of pilots) p.kill('SIGTERM');
  await Promise.all(pilots.map((p) => p.result));
  await dash.child.result;
  await couch.close();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log('wrote docs/dashboard.png, docs/dashboard-full.png, docs/dashboard-token.png, docs/status-output.txt');
