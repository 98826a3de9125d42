import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium; its path can be changed with PICAS_CHROMIUM. */
export const CHROMIUM = process.env.PICAS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium with a fresh profile folder, set up for machines without network: no background
 * requests, no component updates, no sync, no first-run screens, no sandbox (containers run as root).
 */
export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'picas-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: options.width ?? 1440, height: options.height ?? 1000 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
