/** The gateway's browser pages in production: no GraphiQL unless configured, never Apollo's CDN page, the console served. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../scripts/adminBuild.js';
import { startTestPlatform, type TestPlatform } from './kit/platform.js';

const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('browser pages in production', () => {
  let platform: TestPlatform;
  let origin: string;

  beforeAll(async () => {
    await ensureAdminBuild(10 * 60_000);
    platform = await startTestPlatform({ env: { NODE_ENV: 'production', FOLIO_PASSWORD_SCRYPT_LOG_N: '15' } });
    origin = new URL(platform.gateway).origin;
  }, 12 * 60_000);
  afterAll(() => platform?.stop());

  it('does not serve GraphiQL, nor Apollo\'s landing page, to a browser at /graphql', async () => {
    const response = await fetch(`${origin}/graphql`, { headers: browser });
    const body = await response.text();
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(body).not.toMatch(/graphiql|apollographql\.com|embeddable-sandbox/i);
  });

  it('serves the console with the strict CSP (who may use it is the API\'s business)', async () => {
    const response = await fetch(`${origin}/admin/`, { headers: browser });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self';/);
    const page = await response.text();
    const script = /<script type="module" crossorigin src="(\/admin\/assets\/[^"]+\.js)"><\/script>/.exec(page)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // No inline script anywhere in the page.
    expect(page.match(/<script\b[^>]*>/g)?.every((tag) => / src="/.test(tag))).toBe(true);
  });

  it('still answers GraphQL GETs and POSTs at /graphql', async () => {
    const get = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const post = await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...browser }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await post.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
