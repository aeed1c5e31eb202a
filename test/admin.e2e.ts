/**
 * The browser pages in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against a whole platform. Every request to anything but the gateway is blocked
 * and recorded, so "works offline" is asserted, not assumed. Screenshots go to test-results/admin/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { ensureAdminBuild } from '../scripts/adminBuild.js';
import { launchChromium, openPage, SHOTS, type Watch } from './kit/browser.js';
import { FIXTURE_BOOK, writeZip, zipEntry } from './kit/epubFixtures.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';



describe('GraphiQL and the admin console in a browser', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let origin: string;
  let editor: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    await ensureAdminBuild(10 * 60_000);
    platform = await startTestPlatform();
    origin = new URL(platform.gateway).origin;
    [editor, reader] = await Promise.all([registerEditor(platform.gateway), registerUser(platform.gateway)]);
    browser = await launchChromium();
  }, 12 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  /** A fresh browser profile at 1280×800 that may reach only the gateway. */
  const open = (watch: Watch) => openPage(browser, origin, watch);

  it('serves GraphiQL at /graphql offline, under the strict CSP, and runs a query', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    try {
      const response = await page.goto(`${origin}/graphql`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
      await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
      // The editor (Monaco) is ready when the default query is on screen.
      await page.locator('.graphiql-query-editor').getByText('totalCount').waitFor({ timeout: 30_000 });
      await page.locator('.graphiql-execute-button').click();
      await page.locator('.graphiql-response').getByText('"totalCount"').waitFor({ timeout: 30_000 });
      const answer = await page.locator('.graphiql-response').innerText();
      expect(answer).toContain('"books"');
      expect(answer).not.toContain('"errors"');
      await page.screenshot({ path: `${SHOTS}/graphiql-query.png` });

      // A bearer token in the headers editor signs the query in.
      await page.getByRole('button', { name: 'Headers', exact: true }).click();
      const headersEditor = page.locator('section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .monaco-editor');
      await headersEditor.locator('.view-lines').waitFor();
      await headersEditor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${editor.token}` }));
      // Monaco renders spaces as no-break spaces.
      await expect.poll(async () => (await headersEditor.locator('.view-lines').innerText()).replace(/\s+/g, ' ')).toContain('Authorization');
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
      await queryEditor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText('query Me { me { username roles } }');
      await expect.poll(async () => (await queryEditor.locator('.view-lines').innerText()).replace(/\s+/g, ' ')).toContain('query Me');
      // GraphiQL takes the operation name from the editor after a debounce; a run that started
      // before it caught up names the old operation, so run again until the answer is this one.
      await expect
        .poll(async () => {
          await page.locator('.graphiql-execute-button').click();
          await page.waitForTimeout(750);
          return page.locator('.graphiql-response').innerText();
        }, { timeout: 30_000 })
        .toContain(editor.username);
      expect(await page.locator('.graphiql-response').innerText()).toContain('EDITOR');
      await page.screenshot({ path: `${SHOTS}/graphiql-headers.png` });

      // History keeps both runs; the explorer plugin builds queries from the schema.
      await page.getByRole('button', { name: /Show History/i }).click();
      await page.locator('.graphiql-plugin').getByText('Me', { exact: true }).waitFor({ timeout: 10_000 });
      expect(await page.locator('.graphiql-plugin').getByText('Books', { exact: true }).count()).toBe(1);
      await page.getByRole('button', { name: /Show GraphiQL Explorer/i }).click();
      await page.locator('.graphiql-plugin').getByText('books', { exact: true }).first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: `${SHOTS}/graphiql-explorer.png` });
      // The docs explorer reads the schema by introspection (open in development).
      await page.getByRole('button', { name: /Documentation Explorer/i }).click();
      await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${SHOTS}/graphiql-docs.png` });
      expect(watch.external).toEqual([]);
      expect(watch.problems.filter((p) => /Content Security Policy|pageerror/i.test(p))).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  }, 120_000);

  it('lets an editor sign in, page through books, create one from the generated form, upload its EPUB and publish it', async () => {
    // Eleven books so the table (ten a page) has a second page.
    const prefix = `E2E ${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < 11; i++) {
      await mustQuery(platform.gateway, 'mutation($input: CreateBookInput!) { createBook(input: $input) { id } }', { input: { title: `${prefix} seed ${i}`, authors: ['Seed Author'] } }, { token: editor.token });
    }
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    try {
      const response = await page.goto(`${origin}/admin/`);
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
      await page.getByLabel('Username').fill(editor.username);
      await page.getByLabel('Password').fill(editor.password);
      await page.screenshot({ path: `${SHOTS}/sign-in.png` });
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('username').textContent()).toBe(editor.username);
      expect(await page.getByTestId('roles').textContent()).toContain('EDITOR');

      // The table: columns from the Book type, filters from BookFilter, cursor paging.
      const table = page.getByRole('table');
      await table.getByRole('columnheader', { name: 'title' }).waitFor();
      await expect.poll(() => page.getByLabel('status').locator('option').allTextContents()).toEqual(['(any)', 'DRAFT', 'PUBLISHED', 'UNPUBLISHED']);
      await page.getByLabel('query').fill(prefix);
      await page.getByLabel('status').selectOption('DRAFT');
      await expect.poll(() => table.locator('tbody tr').count()).toBe(10);
      await page.getByRole('button', { name: 'Next' }).click();
      await expect.poll(() => table.locator('tbody tr').allTextContents()).toHaveLength(1);
      expect(await page.getByText('Page 2').count()).toBe(1);
      await page.getByRole('button', { name: 'Previous' }).click();
      await expect.poll(() => table.locator('tbody tr').count()).toBe(10);
      await page.screenshot({ path: `${SHOTS}/books.png`, fullPage: true });

      // The form, generated from CreateBookInput: title is required (non-null), authors is a list.
      const form = page.getByRole('form', { name: 'CreateBookInput form' });
      expect(await form.getByLabel('title').getAttribute('aria-required')).toBe('true');
      expect(await form.getByLabel('language').getAttribute('aria-required')).toBe('false');
      await form.getByRole('button', { name: 'Create book' }).click();
      await expect.poll(() => form.getByRole('alert').textContent()).toContain('title is required.');
      // A server-side refusal is shown as the server wrote it, and nothing is created.
      await form.getByLabel('title').fill(`${prefix} refused`);
      await form.getByLabel('language').fill('not a language');
      await form.getByRole('button', { name: 'Create book' }).click();
      await expect.poll(() => form.getByRole('alert').textContent()).toBe('language must be a BCP 47 tag such as "en" or "zh-CN".');
      await page.screenshot({ path: `${SHOTS}/create-book-error.png`, fullPage: true });
      await form.getByLabel('title').fill('');
      await form.getByLabel('language').fill('');

      const title = `${prefix} created in the browser`;
      await form.getByLabel('title').fill(title);
      await form.getByLabel('authors').fill('Ada Lovelace\nCharles Babbage');
      await form.getByLabel('language').fill('en');
      await form.getByRole('button', { name: 'Create book' }).click();
      await expect.poll(() => form.getByRole('status').textContent()).toContain(`Created “${title}”`);
      await page.getByLabel('query').fill('created in the browser');
      await expect.poll(() => table.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining(title)]);
      expect(await table.locator('tbody tr').first().textContent()).toContain('Ada Lovelace, Charles Babbage');
      await page.screenshot({ path: `${SHOTS}/book-created.png`, fullPage: true });
      // A phone-sized screen: one column, the table scrolls sideways inside its box.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${SHOTS}/books-narrow.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });

      // The server agrees: the book exists, by that editor's hand.
      const found = await mustQuery<{ books: { edges: Array<{ node: { title: string; authors: string[]; status: string } }> } }>(
        platform.gateway,
        'query($f: BookFilter) { books(filter: $f, first: 5) { edges { node { title authors status } } } }',
        { f: { query: 'created in the browser' } },
        { token: editor.token },
      );
      expect(found.books.edges.map((e) => e.node)).toEqual([{ title, authors: ['Ada Lovelace', 'Charles Babbage'], status: 'DRAFT' }]);
      const refused = await mustQuery<{ books: { totalCount: number } }>(platform.gateway, 'query($f: BookFilter) { books(filter: $f) { totalCount } }', { f: { query: `${prefix} refused` } }, { token: editor.token });
      expect(refused.books.totalCount).toBe(0);

      // Open it: upload the EPUB, watch the job reach STORED, publish.
      await page.getByRole('button', { name: `Open ${title}` }).click();
      const panel = page.getByRole('region', { name: title });
      expect(await panel.getByTestId('book-status').textContent()).toBe('DRAFT');
      // Publishing a book with no stored revision is refused, with the server's reason.
      await panel.getByRole('button', { name: 'Publish', exact: true }).click();
      await expect.poll(() => panel.getByRole('alert').textContent()).not.toBe('');
      const publishRefusal = await panel.getByRole('alert').textContent();
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'harbour.epub', mimeType: 'application/epub+zip', buffer: await buildEpub(FIXTURE_BOOK) });
      await expect.poll(() => panel.getByTestId('job-status').textContent(), { timeout: 60_000 }).toBe('STORED');
      expect(await panel.getByRole('list', { name: 'Stages' }).textContent()).toMatch(/PARSING.*STORED/s);
      await page.screenshot({ path: `${SHOTS}/upload-stored.png`, fullPage: true });
      await panel.getByRole('button', { name: 'Publish', exact: true }).click();
      await expect.poll(() => panel.getByTestId('book-status').textContent()).toBe('PUBLISHED');
      await page.getByLabel('status').selectOption('PUBLISHED');
      await expect.poll(() => table.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining(title)]);
      await page.screenshot({ path: `${SHOTS}/published.png`, fullPage: true });
      expect(publishRefusal).toBeTruthy();

      // Not a zip at all: refused at once, with the server's reason.
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'notes.epub', mimeType: 'application/epub+zip', buffer: Buffer.from('this is not a zip file') });
      await expect.poll(() => panel.getByRole('alert').textContent()).toBe('The file is not an EPUB (not a zip archive).');
      // A zip that is no EPUB: the job fails, its reason is shown, the published revision stays.
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'broken.epub', mimeType: 'application/epub+zip', buffer: writeZip([zipEntry('hello.txt', 'not a book')]) });
      await expect.poll(() => panel.getByTestId('job-status').textContent(), { timeout: 60_000 }).toBe('FAILED');
      expect(await panel.getByTestId('job-failure').textContent()).toMatch(/\w.*\([A-Z_]+\)/);
      expect(await panel.getByTestId('book-status').textContent()).toBe('PUBLISHED');
      await page.screenshot({ path: `${SHOTS}/upload-failed.png`, fullPage: true });
      // Too big is refused in the browser before any upload.
      // Handing the browser 16 MiB takes a while on a loaded machine (it timed out at 30 s at load ~22).
      await panel.getByLabel('Upload EPUB').setInputFiles({ name: 'huge.epub', mimeType: 'application/epub+zip', buffer: Buffer.alloc(16 * 1024 * 1024 + 1) }, { timeout: 180_000 });
      await expect.poll(() => panel.getByRole('alert').last().textContent()).toMatch(/at most 16 MiB/);

      // Sign out ends the session on the server too.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // The page's own sessionStorage (a browser global, so named through globalThis here).
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('folio.admin.token'))).toBeNull();
      expect(watch.external).toEqual([]);
      expect(watch.problems.filter((p) => /Content Security Policy|pageerror/i.test(p))).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  }, 240_000);

  it('tells a reader the console is not for them', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    try {
      await page.goto(`${origin}/admin/`);
      await page.getByLabel('Username').fill(reader.username);
      await page.getByLabel('Password').fill(reader.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      await page.screenshot({ path: `${SHOTS}/reader-not-allowed.png` });
      expect(watch.external).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
