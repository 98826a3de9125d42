import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { CHROMIUM, launchBrowser } from './browser.js';
import { startDashboardCli } from './dashboard-cli.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import { tokenState } from '../../src/tokens/state.js';

const ctx = useTestDb('dashboard');

const skip = heavySkipReason('dashboard browser') || (existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);

test('the dashboard in a real browser with real pilots: counts move, an error shows its stderr, HTML in tokens stays text, a reset from the page reruns a token, a drain stops the pilots', { skip, timeout: 240_000 }, async () => {
  await ensureDesignDocs(ctx.db);
  const scratch = tempDir('dash-marker');
  mkdirSync(scratch, { recursive: true });
  const marker = join(scratch, 'second-try');
  // Fails the first time (stderr with markup in it), succeeds once run again after a reset.
  const evilId = 'evil-<script>window.__pwned=1</script>';
  const evilInput = `echo '<img src=x onerror="window.__pwned=2">'; if [ -e ${marker} ]; then exit 0; fi; touch ${marker}; echo '<script>window.__pwned=3</script> boom on line 7' >&2; exit 5`;
  await ctx.db.bulkDocs([
    ...Array.from({ length: 40 }, (_, i) => newToken({ _id: `job-${String(i).padStart(3, '0')}`, input: 'sleep 0.4' })),
    newToken({ _id: evilId, input: evilInput }),
  ]);
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const dash = await startDashboardCli(env);
  // Real pilots: `picas run` processes; --wait keeps them polling (so a reset token is picked up again) until drained.
  const pilots = [1, 2].map((i) => spawnCli(['run', '--slots', '2', '--batch', '1', '--lease', '6', '--wait', '--poll-interval', '1', '--work-dir', tempDir(`dash-pilot${i}`)], env));
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => { problems.push(`unexpected dialog: ${d.message()}`); void d.dismiss(); });
    await page.goto(dash.url);
    await page.waitForSelector('#live.live:not(.off)', { timeout: 30_000 });

    // The counts change as pilots finish tokens.
    const doneText = () => page.locator('.count-done').textContent();
    const first = Number((await doneText())?.replace(/,/g, ''));
    assert.ok(await waitFor(async () => Number((await doneText())?.replace(/,/g, '')) > first, 60_000, 200), 'the done count grew while the page was open');
    assert.ok(await waitFor(async () => (await page.locator('#pilots tbody tr[data-pilot]').count()) === 2, 30_000, 200), 'both pilots listed');

    // The error appears with its stderr tail, the markup shown as text.
    const errorRow = page.locator('#errors tbody tr', { hasText: 'evil-' });
    await errorRow.waitFor({ timeout: 60_000 });
    assert.equal(await errorRow.locator('td.id a').textContent(), evilId);
    assert.match((await errorRow.locator('pre.tail').textContent()) ?? '', /<script>window\.__pwned=3<\/script> boom on line 7/);
    assert.equal(await errorRow.locator('td.num').textContent(), '5');

    // Its detail: full logs and input, still as text.
    await errorRow.locator('td.id a').click();
    await page.locator('#detail pre[data-log="stderr"]').waitFor();
    assert.equal(await page.locator('#detail-title').textContent(), evilId);
    assert.match((await page.locator('#detail pre[data-log="stdout"]').textContent()) ?? '', /<img src=x onerror="window\.__pwned=2">/);
    await page.locator('#detail-close').click();

    // Nothing from the tokens ran: no flag set, no element made from their markup.
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 1, 'only the page\'s own script');
    assert.equal(await page.evaluate(() => document.querySelectorAll('img').length), 0);

    // Reset it from the page (token browser, error tab, select, confirm): a pilot runs it again, and it passes.
    await page.locator('#state-tabs button[data-state="error"]').click();
    const row = page.locator('#tokens tbody tr', { hasText: 'evil-' });
    await row.waitFor({ timeout: 20_000 });
    await row.locator('input[type="checkbox"]').check();
    await page.locator('#sel-reset').click();
    await page.locator('#confirm[open]').waitFor();
    assert.match((await page.locator('#confirm-text').textContent()) ?? '', /Put 1 selected token\(s\) back to todo\?/);
    await page.locator('#confirm-ok').click();
    await page.locator('#toast', { hasText: '1 token(s) put back to todo' }).waitFor({ timeout: 20_000 });
    assert.ok(await waitFor(async () => {
      const t = await ctx.db.get<Token>(evilId);
      return tokenState(t) === 'done' && Number(t.scrub_count) === 1;
    }, 60_000, 250), 'a pilot ran the reset token again and it passed');
    await page.locator('#errors tbody tr.empty', { hasText: 'no errors' }).waitFor({ timeout: 30_000 });

    // Drain from the page: the pilots finish and exit.
    await page.locator('#act-drain').click();
    await page.locator('#confirm[open]').waitFor();
    assert.match((await page.locator('#confirm-hint').textContent()) ?? '', /next lease renewal/);
    await page.locator('#confirm-ok').click();
    await page.locator('#banner', { hasText: 'Drain requested' }).waitFor({ timeout: 20_000 });
    const ended = await Promise.race([
      Promise.all(pilots.map((p) => p.result)),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 90_000)),
    ]);
    assert.ok(ended, 'both pilots stopped after the drain');
    for (const r of ended!) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stopped: drain/);
    }
    assert.ok(await waitFor(async () => (await page.locator('#pilots tbody tr[data-pilot]').count()) === 0, 30_000, 200), 'the page shows no active pilot');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    for (const p of pilots) if (p.exitCode === null) p.kill('SIGKILL');
    dash.child.kill('SIGTERM');
    await dash.child.result;
  }
});
