/**
 * The console's book and job pages in a real browser (headless Chromium through playwright-core,
 * as test/admin.e2e.ts): an admin creates a book, uploads its EPUB, publishes it, edits its
 * metadata, sets its licence (picking a partner key from the API keys), replaces its content and
 * republishes, sees a bad EPUB's failure reason, finds the book by search and status, and reads its
 * jobs (upload, re-anchoring, search index). Every request to anything but the gateway is blocked
 * and recorded. Screenshots go to test-results/admin/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { ensureAdminBuild } from '../scripts/adminBuild.js';
import { launchChromium, openPage, SHOTS, type Watch } from './kit/browser.js';
import { FIXTURE_BOOK, writeZip, zipEntry } from './kit/epubFixtures.js';
import { loginAdmin, registerEditor, type TestUser } from './kit/accounts.js';
import { mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

// The machine runs several suites on two cores: waits are generous, and wait for conditions.
const SLOW = { timeout: 120_000, interval: 500 };


interface BookState {
  book: {
    title: string;
    description: string | null;
    status: string;
    publishedRevision: { number: number } | null;
    license: { startsAt: string | null; endsAt: string | null; territories: string[]; partnerIds: string[] } | null;
  } | null;
}

describe('the admin console: book and job pages', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let origin: string;
  let adminToken: string;
  let editor: TestUser;
  let partnerKeyId: string;

  beforeAll(async () => {
    await ensureAdminBuild(15 * 60_000);
    platform = await startTestPlatform();
    origin = new URL(platform.gateway).origin;
    adminToken = await loginAdmin(platform.gateway);
    editor = await registerEditor(platform.gateway);
    const created = await mustQuery<{ createApiKey: { apiKey: { id: string } } }>(
      platform.gateway,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }',
      { input: { name: 'Harbour Partner', scopes: ['catalog:read'] } },
      { token: adminToken },
    );
    partnerKeyId = created.createApiKey.apiKey.id;
    browser = await launchChromium();
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const open = (watch: Watch) => openPage(browser, origin, watch, { timeoutMs: 60_000 });

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${origin}/admin/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('username').textContent(), SLOW).toBe(username);
  }

  const narrowFits = (page: Page): Promise<number> =>
    page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);

  const bookState = (id: string): Promise<BookState> =>
    mustQuery<BookState>(
      platform.gateway,
      'query($id: ID!) { book(id: $id) { title description status publishedRevision { number } license { startsAt endsAt territories partnerIds } } }',
      { id },
      { token: adminToken },
    );

  it('creates, uploads, publishes, edits, licenses, republishes and finds a book; shows its jobs', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    const title = `Harbour ${randomBytes(3).toString('hex')}`;
    try {
      await signIn(page, 'admin', 'admin-password-for-tests');
      const nav = page.getByRole('navigation', { name: 'Pages' });
      expect(await nav.getByRole('link', { name: 'Books' }).getAttribute('aria-current')).toBe('page');

      // Create it with the form generated from CreateBookInput.
      const form = page.getByRole('form', { name: 'CreateBookInput form' });
      await form.getByLabel('title').fill(title);
      await form.getByLabel('authors').fill('Ada Lovelace');
      await form.getByLabel('language').fill('en');
      await form.getByRole('button', { name: 'Create book' }).click();
      await expect.poll(() => form.getByRole('status').textContent(), SLOW).toContain(`Created “${title}”`);
      await page.getByLabel('query').fill(title);
      const table = page.getByRole('table');
      await expect.poll(() => table.locator('tbody tr').allTextContents(), SLOW).toEqual([expect.stringContaining(title)]);

      // Open it, then its page (the panel links there; the hash names the book).
      await page.getByRole('button', { name: `Open ${title}` }).click();
      await page.getByRole('link', { name: /Book page/ }).click();
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toMatch(/^#\/books\/[0-9a-f]+$/);
      const bookId = (await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).split('/')[2]!;
      const panel = page.getByRole('region', { name: title });
      await expect.poll(() => panel.getByTestId('book-status').textContent(), SLOW).toBe('DRAFT');
      const revisions = page.getByRole('table', { name: 'Revisions' });
      await expect.poll(() => revisions.locator('tbody').textContent(), SLOW).toContain('No upload yet.');
      expect(await page.getByTestId('download-none').count()).toBe(1);

      // Upload the EPUB: the job goes through its stages to STORED; revision 1 is a draft.
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'harbour.epub', mimeType: 'application/epub+zip', buffer: await buildEpub(FIXTURE_BOOK) });
      await expect.poll(() => panel.getByTestId('job-status').textContent(), SLOW).toBe('STORED');
      expect(await panel.getByRole('list', { name: 'Stages' }).textContent()).toMatch(/PARSING.*STORED/s);
      await expect.poll(() => page.getByTestId('revision-1').locator('td').nth(1).textContent(), SLOW).toBe('Draft');
      await page.screenshot({ path: `${SHOTS}/book-page-uploaded.png`, fullPage: true });

      // Publish: revision 1 is the published one, and a signed download link appears.
      await panel.getByRole('button', { name: 'Publish', exact: true }).click();
      await expect.poll(() => panel.getByTestId('book-status').textContent(), SLOW).toBe('PUBLISHED');
      await expect.poll(() => page.getByTestId('revision-1').locator('td').nth(1).textContent(), SLOW).toBe('Published');
      const download = page.getByTestId('download');
      await download.waitFor();
      const downloadUrl = (await download.getAttribute('href'))!;
      expect(downloadUrl).toMatch(/\/downloads\/[0-9a-f]{24}\.epub\?exp=\d+&sub=[^&]+&sig=/);
      const fetched = await fetch(downloadUrl);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).subarray(0, 2).toString('latin1')).toBe('PK');

      // Metadata: the form from UpdateBookInput starts from the book; only what changed is sent.
      const metadata = page.getByRole('form', { name: 'UpdateBookInput form' });
      expect(await metadata.getByLabel('title').inputValue()).toBe(title);
      expect(await metadata.getByLabel('authors').inputValue()).toBe('Ada Lovelace');
      await metadata.getByLabel('description').fill('A harbour town, told in three chapters.');
      await metadata.getByRole('button', { name: 'Save metadata' }).click();
      await expect.poll(() => metadata.getByRole('status').textContent(), SLOW).toBe('Saved: description.');
      expect((await bookState(bookId)).book?.description).toBe('A harbour town, told in three chapters.');
      // A refusal is shown as the server wrote it.
      await metadata.getByLabel('language').fill('not a language');
      await metadata.getByRole('button', { name: 'Save metadata' }).click();
      await expect.poll(() => metadata.getByRole('alert').textContent(), SLOW).toContain('BCP 47');
      await metadata.getByLabel('language').fill('en');

      // Licence: window, territories, and the partner key picked from the API keys (by keyboard).
      const licence = page.getByRole('form', { name: 'Licence form' });
      await licence.getByLabel('Starts at (UTC)').fill('2026-01-01T00:00');
      await licence.getByLabel('Ends at (UTC)').fill('2036-01-01T00:00');
      await licence.getByLabel('Territories').fill('us, CN');
      await licence.getByLabel('Territories').focus();
      await page.keyboard.press('Tab');
      const partnerBox = licence.getByRole('checkbox', { name: /Harbour Partner/ });
      expect(await partnerBox.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)).toBe(true);
      await page.keyboard.press('Space');
      expect(await partnerBox.isChecked()).toBe(true);
      await licence.getByRole('button', { name: 'Save licence' }).click();
      await expect.poll(() => page.getByTestId('license-summary').textContent(), SLOW).toContain('US, CN');
      expect(await page.getByTestId('license-summary').textContent()).toContain('1 partner key(s)');
      expect((await bookState(bookId)).book?.license).toEqual({ startsAt: '2026-01-01T00:00:00.000Z', endsAt: '2036-01-01T00:00:00.000Z', territories: ['US', 'CN'], partnerIds: [partnerKeyId] });
      // The server's refusal of a bad window is shown.
      const licenceAgain = page.getByRole('form', { name: 'Licence form' });
      await licenceAgain.getByLabel('Ends at (UTC)').fill('2025-01-01T00:00');
      await licenceAgain.getByRole('button', { name: 'Save licence' }).click();
      await expect.poll(() => licenceAgain.getByRole('alert').textContent(), SLOW).toBe('endsAt must be after startsAt.');
      await page.screenshot({ path: `${SHOTS}/book-page-published.png`, fullPage: true });

      // New content, republished: revision 2 is the published one, revision 1 an earlier one.
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'second.epub', mimeType: 'application/epub+zip', buffer: await buildEpub({ ...FIXTURE_BOOK, title: 'Second edition' }) });
      await expect.poll(() => panel.getByTestId('job-status').textContent(), SLOW).toBe('STORED');
      await expect.poll(() => page.getByTestId('revision-2').locator('td').nth(1).textContent(), SLOW).toBe('Draft');
      await panel.getByRole('button', { name: 'Unpublish', exact: true }).click();
      await expect.poll(() => page.getByTestId('revision-1').locator('td').nth(1).textContent(), SLOW).toBe('Last published (withdrawn)');
      await panel.getByRole('button', { name: 'Publish', exact: true }).click();
      await expect.poll(() => page.getByTestId('revision-2').locator('td').nth(1).textContent(), SLOW).toBe('Published');
      expect(await page.getByTestId('revision-1').locator('td').nth(1).textContent()).toBe('Earlier');
      expect((await bookState(bookId)).book).toMatchObject({ status: 'PUBLISHED', publishedRevision: { number: 2 } });
      // Downloads are checked as the licence sees the holder: US and CN only, and this browser has no territory.
      expect(await page.getByTestId('download-none').textContent()).toContain('licence');

      // A zip that is no EPUB: its job fails with a reason; the published revision stays.
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'broken.epub', mimeType: 'application/epub+zip', buffer: writeZip([zipEntry('hello.txt', 'not a book')]) });
      await expect.poll(() => panel.getByTestId('job-status').textContent(), SLOW).toBe('FAILED');
      expect(await panel.getByTestId('job-failure').textContent()).toMatch(/\w.*\([A-Z_]+\)/);
      const jobs = page.getByRole('table', { name: 'Upload jobs' });
      await expect.poll(() => jobs.locator('tbody tr').count(), SLOW).toBe(3);
      expect(await jobs.locator('tbody tr').first().textContent()).toMatch(/^FAILED.*\([A-Z_]+\)$/);
      expect(await page.getByTestId('revision-2').locator('td').nth(1).textContent()).toBe('Published');
      await page.screenshot({ path: `${SHOTS}/book-page-failed-upload.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await narrowFits(page)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${SHOTS}/book-page-narrow.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });

      // The list finds it by search and status.
      await nav.getByRole('link', { name: 'Books' }).click();
      await page.getByLabel('query').fill(title);
      await page.getByLabel('status').selectOption('DRAFT');
      await expect.poll(() => page.getByRole('table').locator('tbody tr').allTextContents(), SLOW).toEqual(['Nothing here.']);
      await page.getByLabel('status').selectOption('PUBLISHED');
      await expect.poll(() => page.getByRole('table').locator('tbody tr').allTextContents(), SLOW).toEqual([expect.stringContaining(title)]);
      await page.screenshot({ path: `${SHOTS}/books-found.png`, fullPage: true });

      // Jobs: the latest upload (the failed one), the re-anchoring after revision 2, the search index.
      await nav.getByRole('link', { name: 'Jobs' }).click();
      await page.getByLabel('Book', { exact: true }).fill(title);
      const row = page.getByTestId(`jobs-${bookId}`);
      await expect.poll(() => row.getByTestId('upload-cell').textContent(), SLOW).toMatch(/^FAILED.*3 upload\(s\) in all/);
      await expect
        .poll(async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return `${await row.getByTestId('repair-cell').textContent()} | ${await row.getByTestId('index-cell').textContent()}`;
        }, { timeout: 180_000, interval: 2000 })
        .toMatch(/^DONE.*moved 0, unchanged 0, orphaned 0.*took \d+ ms.* \| INDEXED.*(\d+)\/\1 passages \(100 %\)/);
      await page.screenshot({ path: `${SHOTS}/jobs.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await narrowFits(page)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${SHOTS}/jobs-narrow.png`, fullPage: true });

      expect(watch.external).toEqual([]);
      expect(watch.problems.filter((p) => /Content Security Policy|pageerror/i.test(p))).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-books-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  }, 600_000);

  it('lets an editor, who may not list API keys, type partner key ids in the licence editor', async () => {
    const book = await mustQuery<{ createBook: { id: string; title: string } }>(
      platform.gateway,
      'mutation($input: CreateBookInput!) { createBook(input: $input) { id title } }',
      { input: { title: `Editor licence ${randomBytes(3).toString('hex')}` } },
      { token: editor.token },
    );
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    try {
      await signIn(page, editor.username, editor.password);
      await page.goto(`${origin}/admin/#/books/${book.createBook.id}`);
      const licence = page.getByRole('form', { name: 'Licence form' });
      await expect.poll(() => licence.getByText('Only admins may list API keys').count(), SLOW).toBe(1);
      await licence.getByLabel('Partner key ids').fill(partnerKeyId);
      await licence.getByRole('button', { name: 'Save licence' }).click();
      await expect.poll(() => page.getByTestId('license-summary').textContent(), SLOW).toContain('1 partner key(s)');
      expect((await bookState(book.createBook.id)).book?.license?.partnerIds).toEqual([partnerKeyId]);
      await page.screenshot({ path: `${SHOTS}/book-page-editor-licence.png`, fullPage: true });
      expect(watch.external).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-books-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  }, 300_000);
});
