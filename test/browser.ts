/**
 * Debian's Chromium driven by playwright-core, for the console tests: headless, with everything that
 * would reach out of the machine turned off, and a fresh profile per launch.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Where the tests leave screenshots of each page (kept by CI, ignored by git). */
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** `args`: extra Chromium switches (a host resolver rule, say). */
export async function launchBrowser(args: string[] = []): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'versa-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async page(viewport = { width: 1280, height: 800 }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      // A script error on the page fails the test that caused it.
      page.on('pageerror', (err) => {
        throw err;
      });
      // So does anything of the console's own that its Content-Security-Policy had to refuse.
      page.on('console', (message) => {
        if (message.type() === 'error' && page.url().includes('/_versa/') && /Content Security Policy/.test(message.text())) {
          throw new Error(`the console broke its own policy: ${message.text()}`);
        }
      });
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Polls `read` until `ok` holds (at most `ms`), and returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
