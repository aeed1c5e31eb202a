import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, createUiRoutes, type UiOptions } from './static.js';

const dir = mkdtempSync(join(tmpdir(), 'folio-ui-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/admin/assets/index-abc.js"></script>');
writeFileSync(join(dir, 'graphiql.html'), '<!doctype html><title>graphiql</title>');
writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(dir, 'assets', 'index-abc.css'), 'body{}');
writeFileSync(join(dir, 'secret.txt'), 'not an asset');

async function serve(options: UiOptions): Promise<{ url: string; close(): Promise<void> }> {
  const ui = createUiRoutes(options);
  const server = http.createServer((req, res) => {
    const [path = '/', search = ''] = (req.url ?? '/').split('?');
    if (!ui.handle(req, res, path, search)) {
      res.writeHead(418).end('fell through');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const html = { accept: 'text/html,application/xhtml+xml' };

describe('gateway UI routes', () => {
  let on: Awaited<ReturnType<typeof serve>>;
  let off: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    on = await serve({ graphiql: true, dir });
    off = await serve({ graphiql: false, dir });
  });
  afterAll(async () => {
    await on.close();
    await off.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves GraphiQL to a browser at /graphql, with the strict CSP and no caching', async () => {
    const response = await fetch(`${on.url}/graphql`, { headers: html });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>graphiql</title>');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('leaves GraphQL GETs and non-browser requests to the API', async () => {
    expect((await fetch(`${on.url}/graphql?query=%7B__typename%7D`, { headers: html })).status).toBe(418);
    expect((await fetch(`${on.url}/graphql`, { headers: { accept: 'application/json' } })).status).toBe(418);
    expect((await fetch(`${on.url}/graphql`, { method: 'POST', headers: html })).status).toBe(418);
  });

  it('does not serve GraphiQL when it is off (production default), but still serves the console', async () => {
    expect((await fetch(`${off.url}/graphql`, { headers: html })).status).toBe(418);
    expect((await fetch(`${off.url}/admin/`, { headers: html })).status).toBe(200);
  });

  it('serves the console for every /admin/ route and redirects /admin', async () => {
    const redirect = await fetch(`${on.url}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/admin/');
    for (const path of ['/admin/', '/admin/books', '/admin/books/123']) {
      const response = await fetch(`${on.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>console</title>');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('serves hashed assets with their type and a year of caching; nothing else from the build directory', async () => {
    const js = await fetch(`${on.url}/admin/assets/index-abc.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('console.log(1)');
    expect((await fetch(`${on.url}/admin/assets/index-abc.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    // Gzipped from the second request on (the first starts the compression); fetch decodes it.
    await expect.poll(async () => (await fetch(`${on.url}/admin/assets/index-abc.js`, { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-encoding')).toBe('gzip');
    const gz = await fetch(`${on.url}/admin/assets/index-abc.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(await gz.text()).toBe('console.log(1)');
    expect(gz.headers.get('vary')).toBe('accept-encoding');
    expect((await fetch(`${on.url}/admin/assets/index-abc.js`, { headers: { 'accept-encoding': 'identity' } })).headers.get('content-encoding')).toBeNull();
    for (const path of ['/admin/assets/missing.js', '/admin/assets/..%2Fsecret.txt', '/admin/assets/../secret.txt', '/admin/assets/sub/x.js']) {
      const response = await fetch(`${on.url}${path}`);
      // fetch normalises "../" itself: that one becomes /admin/secret.txt, the console's page, never the file.
      expect(await response.text()).not.toContain('not an asset');
    }
    expect((await fetch(`${on.url}/admin/assets/missing.js`)).status).toBe(404);
  });

  it('answers HEAD without a body', async () => {
    const response = await fetch(`${on.url}/admin/`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await response.text()).toBe('');
  });

  it('answers 503 with the build command when the pages are not built', async () => {
    const empty = await serve({ graphiql: true, dir: join(dir, 'nowhere') });
    try {
      const response = await fetch(`${empty.url}/admin/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build --prefix admin');
    } finally {
      await empty.close();
    }
  });
});
