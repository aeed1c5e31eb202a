/**
 * The console's browser tests: Debian's Chromium through playwright-core (no test tool may download
 * a browser here), and pages that may reach only the gateway, with every console error, CSP
 * violation and blocked outside request collected for the test to assert on.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every screen (README shows the best from admin/screenshots/). */
export const SHOTS = 'test-results/admin';

/** What a page did that a test must see: requests to anywhere but the gateway, console errors. */
export interface Watch {
  readonly external: string[];
  readonly problems: string[];
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  mkdirSync(SHOTS, { recursive: true });
  // Root in CI containers: Chromium's sandbox needs user namespaces it does not have there.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface OpenOptions {
  readonly viewport?: { width: number; height: number };
  /** Let the page read and write the clipboard (the API key's copy button). */
  readonly clipboard?: boolean;
  /** Playwright's wait for each action (its default is 30 s). */
  readonly timeoutMs?: number;
}

/** A fresh browser profile (1280×800 unless told) that may reach only `origin`. */
export async function openPage(browser: Browser, origin: string, watch: Watch, options: OpenOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin) return route.continue();
    watch.external.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  if (options.timeoutMs) page.setDefaultTimeout(options.timeoutMs);
  page.on('console', (message) => {
    // CSP violations and script errors are reported on the console.
    if (message.type() === 'error') watch.problems.push(message.text());
  });
  page.on('pageerror', (error) => watch.problems.push(`pageerror: ${error.message}`));
  return { context, page };
}
