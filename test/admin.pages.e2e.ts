/**
 * The console's people, partners and schema pages in headless Chromium (see test/admin.e2e.ts for
 * the set-up this shares: Debian's chromium through playwright-core, every request not to the
 * gateway blocked and recorded, CSP refusals fail the test).
 *
 * The platform serves a supergraph composed here from a modified catalog SDL, not the one the
 * console was built with: CreateBookInput has an extra field and Book.isbn is deprecated. The
 * console has to show both from introspection alone (the generated book form, the schema
 * reference), which is the point of building it from the schema.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../lib/config.js';
import { ensureAdminBuild } from '../scripts/adminBuild.js';
import { launchChromium, openPage, SHOTS, type Watch } from './kit/browser.js';
import { login, loginAdmin, registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { graphql, mustQuery, startTestPlatform, tempDataDir, type TestPlatform } from './kit/platform.js';

const SCHEMA_DIR = path.resolve(import.meta.dirname, '../schema');
const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

const NEW_FIELD = 'shelfMark';
const NEW_FIELD_HELP = 'Where the printed copy sits in the library; added by this test, never by the console.';
const DEPRECATION = 'Use the identifiers list instead; this test deprecated it.';

/** The catalog SDL with one more CreateBookInput field and Book.isbn deprecated, composed with the others. */
function composeModifiedSupergraph(): string {
  const services = SUBGRAPH_NAMES.map((name, index) => {
    let sdl = readFileSync(path.join(SCHEMA_DIR, `${name}.graphql`), 'utf8');
    if (name === 'catalog') {
      const withField = sdl.replace('input CreateBookInput {\n', `input CreateBookInput {\n  "${NEW_FIELD_HELP}"\n  ${NEW_FIELD}: String\n`);
      const deprecated = withField.replace(/(type Book @key[^{]*\{[\s\S]*?\n {2}isbn: String)\n/, `$1 @deprecated(reason: "${DEPRECATION}")\n`);
      if (withField === sdl || deprecated === withField) throw new Error('catalog.graphql changed shape: the test cannot modify it');
      sdl = deprecated;
    }
    // Placeholder URLs: the platform points the gateway at its own subgraphs.
    return { name, url: `http://127.0.0.1:${4001 + index}/graphql`, typeDefs: parse(sdl) };
  });
  const result = composeServices(services);
  if (result.errors) throw new Error(`composition failed: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.supergraphSdl;
}


describe('the admin console: people, partners, schema (on a supergraph the console was not built with)', () => {
  const dataDir = tempDataDir();
  let platform: TestPlatform;
  let browser: Browser;
  let origin: string;
  let adminToken: string;
  let editor: TestUser;

  beforeAll(async () => {
    await ensureAdminBuild(10 * 60_000);
    const supergraph = path.join(dataDir, 'supergraph.graphql');
    writeFileSync(supergraph, composeModifiedSupergraph());
    platform = await startTestPlatform({ dataDir, keepData: true, env: { FOLIO_SUPERGRAPH_PATH: supergraph } });
    origin = new URL(platform.gateway).origin;
    adminToken = await loginAdmin(platform.gateway);
    editor = await registerEditor(platform.gateway);
    browser = await launchChromium();
  }, 12 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = (watch: Watch, viewport = { width: 1280, height: 800 }) => openPage(browser, origin, watch, { viewport, clipboard: true });

  async function signIn(page: Page, who: { username: string; password: string }, hash = ''): Promise<void> {
    await page.goto(`${origin}/admin/${hash}`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('username').textContent(), { timeout: 30_000 }).toBe(who.username);
  }

  /** Presses Tab until the focused element is the one `matches` describes (at most 40 presses). */
  async function tabTo(page: Page, description: string, matches: (el: { tag: string; label: string; text: string; type: string }) => boolean): Promise<void> {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const el = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { activeElement: { tagName: string; id: string; textContent: string | null; getAttribute(n: string): string | null; labels?: ArrayLike<{ textContent: string | null }> } | null } }).document;
        const a = doc.activeElement;
        if (!a) return { tag: '', label: '', text: '', type: '' };
        const labels = a.labels ? Array.from(a.labels).map((l) => l.textContent ?? '').join(' ') : '';
        return { tag: a.tagName.toLowerCase(), label: labels || (a.getAttribute('aria-label') ?? ''), text: (a.textContent ?? '').trim(), type: a.getAttribute('type') ?? '' };
      });
      if (matches(el)) return;
    }
    throw new Error(`Tab never reached ${description}`);
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  }

  async function noScrollSideways(page: Page): Promise<number> {
    return page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
  }

  function clean(watch: Watch): void {
    expect(watch.external).toEqual([]);
    expect(watch.problems.filter((p) => /Content Security Policy|pageerror/i.test(p))).toEqual([]);
  }

  async function failing<T>(page: Page, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      await page.screenshot({ path: `${SHOTS}/failure-${Date.now()}.png`, fullPage: true }).catch(() => undefined);
      throw error;
    }
  }

  it('by keyboard alone: signs in, opens Partners, creates an API key shown once with a copy button, gone after a reload; then revokes it', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await page.goto(`${origin}/admin/`);
      await tabTo(page, 'the username field', (el) => el.tag === 'input' && el.label === 'Username');
      await page.keyboard.type(ADMIN.username);
      await page.keyboard.press('Tab');
      await page.keyboard.type(ADMIN.password);
      await tabTo(page, 'the sign-in button', (el) => el.tag === 'button' && el.text === 'Sign in');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId('username').textContent(), { timeout: 30_000 }).toBe('admin');
      expect(await page.getByTestId('roles').textContent()).toContain('ADMIN');

      await tabTo(page, 'the Partners link', (el) => el.tag === 'a' && el.text === 'Partners');
      await page.keyboard.press('Enter');
      const form = page.getByRole('form', { name: 'CreateApiKeyInput form' });
      await form.waitFor({ timeout: 30_000 });
      expect(page.url()).toMatch(/#\/partners$/);
      // Scopes come from the API's list, each with what it grants.
      const scopes = form.getByRole('group', { name: 'scopes' });
      await expect.poll(() => scopes.getByRole('checkbox').count()).toBe(4);
      expect(await scopes.textContent()).toContain('search and ask over the same books');

      const name = `e2e key ${Date.now()}`;
      await tabTo(page, 'the name field', (el) => el.tag === 'input' && el.label.startsWith('name'));
      await page.keyboard.type(name);
      await tabTo(page, 'the catalog:read scope', (el) => el.type === 'checkbox' && el.label === 'catalog:read');
      await page.keyboard.press('Space');
      await tabTo(page, 'the search:read scope', (el) => el.type === 'checkbox' && el.label === 'search:read');
      await page.keyboard.press('Space');
      await tabTo(page, 'the rate limit field', (el) => el.label.startsWith('rateLimitPerMinute'));
      await page.keyboard.type('120');
      await tabTo(page, 'the Create key button', (el) => el.tag === 'button' && el.text === 'Create key');
      await page.screenshot({ path: `${SHOTS}/partners-create-key-keyboard.png` });
      await page.keyboard.press('Enter');

      const shown = page.getByTestId('new-key');
      await shown.waitFor({ timeout: 30_000 });
      const key = await page.getByTestId('new-key-value').inputValue();
      expect(key).toMatch(/^fpk_[A-Za-z0-9_-]{20,}$/);
      expect(await shown.textContent()).toContain('Shown once');
      await shown.getByRole('button', { name: 'Copy key' }).click();
      await expect.poll(() => shown.getByRole('status').textContent()).toBe('Copied to the clipboard.');
      expect(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe(key);
      await shot(page, 'partners-key-shown-once');

      // The key works, with the scopes chosen.
      const [stored] = (await mustQuery<{ apiKeys: Array<{ id: string; name: string; scopes: string[]; rateLimitPerMinute: number; revokedAt: string | null }> }>(platform.gateway, '{ apiKeys { id name scopes rateLimitPerMinute revokedAt } }', {}, { token: adminToken })).apiKeys.filter((k) => k.name === name);
      expect(stored).toMatchObject({ scopes: ['catalog:read', 'search:read'], rateLimitPerMinute: 120, revokedAt: null });

      // Listed with its scopes; after a reload the key itself is nowhere on the page.
      const keys = page.getByRole('table', { name: 'Keys' });
      await expect.poll(() => keys.locator('tbody tr').filter({ hasText: name }).textContent()).toContain('catalog:read, search:read');
      await page.reload();
      await keys.locator('tbody tr').filter({ hasText: name }).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('new-key').count()).toBe(0);
      expect(await page.content()).not.toContain(key);
      expect(await keys.locator('tbody tr').filter({ hasText: name }).textContent()).toContain(key.slice(0, 10));

      page.once('dialog', (dialog) => void dialog.accept());
      await keys.getByRole('button', { name: `Revoke ${name}` }).click();
      await expect.poll(() => keys.locator('tbody tr').filter({ hasText: name }).textContent()).toContain('Revoked');
      const after = (await mustQuery<{ apiKeys: Array<{ id: string; revokedAt: string | null }> }>(platform.gateway, '{ apiKeys { id revokedAt } }', {}, { token: adminToken })).apiKeys.find((k) => k.id === stored!.id);
      expect(after?.revokedAt).not.toBeNull();
      await shot(page, 'partners-key-revoked');
      clean(watch);
    }).finally(() => context.close());
  }, 240_000);

  it('registers a trusted document from a pasted operation, shows the scopes it needs, lists it and removes it', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await signIn(page, ADMIN, '#/partners');
      const form = page.getByRole('form', { name: 'RegisterTrustedDocumentInput form' });
      await form.waitFor({ timeout: 30_000 });
      const client = `feed-${Date.now()}`;
      const operation = 'query PartnerFeed($q: String!) {\n  books(first: 5) { totalCount }\n  search(query: $q) { books { totalCount } }\n}';
      // A textarea: the operation keeps its lines.
      expect(await form.getByLabel('body').evaluate((el) => el.tagName)).toBe('TEXTAREA');
      await form.getByLabel('body').fill(operation);
      await form.getByLabel('clientName').fill(client);
      await form.getByRole('button', { name: 'Register document' }).click();
      await expect.poll(() => form.getByRole('status').textContent(), { timeout: 30_000 }).toContain('a key needs the scopes: catalog:read, search:read');

      const list = page.getByRole('table', { name: 'Allow-list' });
      const row = list.locator('tbody tr').filter({ hasText: client });
      await expect.poll(() => row.textContent()).toContain('catalog:read, search:read');
      expect(await row.locator('pre').textContent()).toBe(operation);
      await shot(page, 'partners-trusted-document');

      // An operation no partner key could run is refused, with the server's reason.
      await form.getByLabel('body').fill('mutation { logout }');
      await form.getByRole('button', { name: 'Register document' }).click();
      await expect.poll(() => form.getByRole('alert').textContent()).toContain('No partner key can run Mutation.logout');

      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: /^Remove document/ }).click();
      await expect.poll(() => row.count()).toBe(0);
      const docs = await mustQuery<{ trustedDocuments: Array<{ clientName: string | null }> }>(platform.gateway, '{ trustedDocuments { clientName } }', {}, { token: adminToken });
      expect(docs.trustedDocuments.map((d) => d.clientName)).not.toContain(client);
      clean(watch);
    }).finally(() => context.close());
  }, 180_000);

  it('lets an admin find a user, change their roles and end their session, and revoke one of their own other sessions', async () => {
    const person = await registerUser(platform.gateway);
    // A second session of the admin's, from elsewhere, to revoke.
    const otherSession = await login(platform.gateway, ADMIN.username, ADMIN.password);
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await signIn(page, ADMIN, '#/people');
      const users = page.getByRole('table').first();
      await users.getByRole('columnheader', { name: 'username' }).waitFor({ timeout: 30_000 });
      await page.getByLabel('usernamePrefix', { exact: true }).fill(person.username);
      await expect.poll(() => users.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining(person.username)]);
      await page.getByRole('button', { name: `Open ${person.username}` }).click();
      const editorPanel = page.getByRole('form', { name: `Roles of ${person.username}` });
      expect(await editorPanel.getByLabel('READER').isChecked()).toBe(true);
      expect(await editorPanel.getByLabel('EDITOR').isChecked()).toBe(false);
      await editorPanel.getByLabel('EDITOR').check();
      await editorPanel.getByRole('button', { name: 'Save roles' }).click();
      await expect.poll(() => editorPanel.getByRole('status').textContent()).toBe('Saved: READER, EDITOR.');
      await expect.poll(() => users.locator('tbody tr').first().textContent()).toContain('READER, EDITOR');
      const { user } = await mustQuery<{ user: { roles: string[] } }>(platform.gateway, 'query($id: ID!) { user(id: $id) { roles } }', { id: person.id }, { token: adminToken });
      expect(user.roles).toEqual(['READER', 'EDITOR']);
      await page.getByLabel('role', { exact: true }).selectOption('EDITOR');
      await expect.poll(() => users.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining(person.username)]);
      await shot(page, 'people-roles');

      // That user's sessions (registering opened one): the admin ends it.
      const theirs = page.getByRole('table', { name: `Sessions of ${person.username}` });
      await expect.poll(() => theirs.locator('tbody tr').count(), { timeout: 30_000 }).toBe(1);
      await theirs.getByRole('button', { name: new RegExp(`^Revoke ${person.username}'s session`) }).click();
      await page.getByText('No active sessions.').waitFor({ timeout: 30_000 });
      const after = await mustQuery<{ userSessions: unknown[] }>(platform.gateway, 'query($id: ID!) { userSessions(userId: $id) { id } }', { id: person.id }, { token: adminToken });
      expect(after.userSessions).toEqual([]);

      // Own sessions: this browser's is marked, another one is revoked.
      const sessions = page.getByRole('table', { name: 'My sessions' });
      await expect.poll(() => sessions.locator('tbody tr').filter({ hasText: 'this one' }).count()).toBe(1);
      const before = await sessions.getByRole('button', { name: /^Revoke session/ }).count();
      expect(before).toBeGreaterThanOrEqual(1);
      await sessions.getByRole('button', { name: /^Revoke session/ }).first().click();
      await expect.poll(() => sessions.getByRole('button', { name: /^Revoke session/ }).count()).toBe(before - 1);
      // Some other session of the admin's ended; revoke them all and the one made above is refused.
      while ((await sessions.getByRole('button', { name: /^Revoke session/ }).count()) > 0) {
        const n = await sessions.getByRole('button', { name: /^Revoke session/ }).count();
        await sessions.getByRole('button', { name: /^Revoke session/ }).first().click();
        await expect.poll(() => sessions.getByRole('button', { name: /^Revoke session/ }).count()).toBe(n - 1);
      }
      // The gateway may hold a token's resolution for a moment; the session ends within it.
      await expect.poll(async () => {
        const r = await graphql<{ me: { id: string } | null }>(platform.gateway, '{ me { id } }', {}, { token: otherSession });
        return r.data?.me ?? null;
      }, { timeout: 30_000 }).toBeNull();
      await shot(page, 'people-sessions');
      clean(watch);
    }).finally(() => context.close());
    adminToken = await loginAdmin(platform.gateway); // the revokes above ended the test's own admin session too
  }, 180_000);

  it('shows an editor the server\'s refusal on the people page and on partners', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await signIn(page, editor, '#/people');
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor({ timeout: 30_000 });
      expect(await page.getByRole('alert').filter({ hasText: 'Not allowed' }).textContent()).toContain('Only ADMIN users may do that.');
      expect(await page.getByRole('columnheader', { name: 'username' }).count()).toBe(0);
      // Their own sessions are still theirs to see.
      await page.getByRole('table', { name: 'My sessions' }).locator('tbody tr').filter({ hasText: 'this one' }).waitFor({ timeout: 30_000 });
      await shot(page, 'people-editor-not-allowed');
      await page.getByRole('link', { name: 'Partners' }).click();
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor({ timeout: 30_000 });
      expect(await page.getByRole('form', { name: 'CreateApiKeyInput form' }).count()).toBe(0);
      clean(watch);
    }).finally(() => context.close());
  }, 120_000);

  it('browses the schema: a deprecated field with its reason, found by search, types linked', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await signIn(page, ADMIN, '#/schema');
      await page.getByRole('heading', { name: /^Query/ }).waitFor({ timeout: 30_000 });
      // Query's fields with their arguments and descriptions, from introspection.
      expect(await page.getByTestId('member-users').textContent()).toContain('users(filter: UserFilter, first: Int = 20, after: String): UserConnection');
      expect(await page.getByTestId('member-users').textContent()).toContain('ADMIN: every user, ordered by username');

      await page.getByLabel('Search the schema').fill('isbn deprecated');
      const results = page.getByRole('list', { name: 'Search results' });
      await results.getByRole('button', { name: 'Book.isbn' }).click();
      await page.getByRole('heading', { name: /^Book/ }).waitFor();
      const isbn = page.getByTestId('member-isbn');
      expect(await isbn.textContent()).toContain('deprecated');
      expect(await isbn.locator('.deprecation').textContent()).toBe(`Deprecated: ${DEPRECATION}`);
      expect(await isbn.textContent()).toContain('ISBN-13 or ISBN-10, digits only.');
      await shot(page, 'schema-deprecated-field');

      // "Deprecated only" lists exactly the served schema's deprecations; types link to each other.
      await page.getByLabel('Search the schema').fill('');
      await page.getByLabel('Deprecated only').check();
      expect(await results.getByRole('button').allTextContents()).toEqual(['Book.isbn']);
      await page.getByLabel('Deprecated only').uncheck();
      await page.getByRole('list', { name: 'All types' }).getByRole('button', { name: 'Query', exact: true }).click();
      await page.getByTestId('member-users').getByRole('button', { name: 'UserConnection' }).click();
      await page.getByRole('heading', { name: /^UserConnection/ }).waitFor();
      expect(await page.getByText('One page of users (Relay), ordered by username.').count()).toBe(1);
      clean(watch);
    }).finally(() => context.close());
  }, 120_000);

  it('shows a field added to CreateBookInput in the generated book form, its description as help text, without console changes', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch);
    await failing(page, async () => {
      await signIn(page, ADMIN, '#/books');
      const form = page.getByRole('form', { name: 'CreateBookInput form' });
      await form.waitFor({ timeout: 30_000 });
      const input = form.getByLabel(NEW_FIELD, { exact: true });
      expect(await input.getAttribute('type')).toBe('text');
      expect(await input.getAttribute('aria-required')).toBe('false');
      const helpId = await input.getAttribute('aria-describedby');
      expect(helpId).toBeTruthy();
      expect(await page.locator(`[id="${helpId}"]`).textContent()).toBe(NEW_FIELD_HELP);
      await form.scrollIntoViewIfNeeded();
      await shot(page, 'books-form-new-field');
      clean(watch);
    }).finally(() => context.close());
  }, 120_000);

  it('is usable 390 px wide: no page scrolls sideways', async () => {
    const watch: Watch = { external: [], problems: [] };
    const { context, page } = await open(watch, { width: 390, height: 844 });
    await failing(page, async () => {
      await signIn(page, ADMIN, '#/people');
      await page.getByRole('table', { name: 'My sessions' }).getByText('this one').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Open admin' }).waitFor({ timeout: 30_000 });
      expect(await noScrollSideways(page)).toBeLessThanOrEqual(390);
      await shot(page, 'people-narrow');
      await page.getByRole('link', { name: 'Partners' }).click();
      await page.getByRole('form', { name: 'CreateApiKeyInput form' }).waitFor({ timeout: 30_000 });
      await page.getByRole('table', { name: 'Allow-list' }).locator('tbody tr').first().waitFor();
      expect(await noScrollSideways(page)).toBeLessThanOrEqual(390);
      await shot(page, 'partners-narrow');
      await page.getByRole('link', { name: 'Schema' }).click();
      await page.getByRole('heading', { name: /^Query/ }).waitFor({ timeout: 30_000 });
      expect(await noScrollSideways(page)).toBeLessThanOrEqual(390);
      await shot(page, 'schema-narrow');
      clean(watch);
    }).finally(() => context.close());
  }, 120_000);
});
