import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './lifecycle.js';
import { createOpsEndpoints, type OpsEndpointsOptions, type Readiness } from './ops.js';
import { notFoundRoute, sendError } from './respond.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve(options: Partial<OpsEndpointsOptions>): Promise<string> {
  const ops = createOpsEndpoints({
    service: 'svc',
    registry: { metrics: async () => 'folio_up 1\n', contentType: 'text/plain' },
    readiness: async () => ({ ready: true, checks: { storage: 'ok' } }),
    isDraining: () => false,
    ...options,
  });
  server = createServer((req, res) => void ops.handle(req, res, req.url ?? '/').then((handled) => handled || sendError(res, notFoundRoute())));
  return `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
}

const get = async (url: string, token?: string) => {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: await response.text() };
};

describe('operational endpoints', () => {
  it('answers liveness and readiness with one body shape, and 503 while draining', async () => {
    let draining = false;
    const base = await serve({ isDraining: () => draining });
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: '{"status":"ok","service":"svc"}' });
    expect(await get(`${base}/readyz`)).toEqual({ status: 200, body: '{"status":"ready","service":"svc","checks":{"storage":"ok"}}' });
    draining = true;
    expect((await get(`${base}/healthz`)).status).toBe(503);
    expect(await get(`${base}/readyz`)).toEqual({ status: 503, body: '{"status":"draining","service":"svc","checks":{}}' });
  });

  it('is not ready when the check fails or throws', async () => {
    let answer: () => Promise<Readiness> = async () => ({ ready: false, checks: { storage: 'unreachable' } });
    const base = await serve({ readiness: () => answer() });
    expect(await get(`${base}/readyz`)).toEqual({ status: 503, body: '{"status":"not-ready","service":"svc","checks":{"storage":"unreachable"}}' });
    answer = () => Promise.reject(new Error('boom'));
    expect(await get(`${base}/readyz`)).toEqual({ status: 503, body: '{"status":"not-ready","service":"svc","checks":{"readiness":"failed"}}' });
  });

  it('needs the operations token for /readyz and /metrics (one error body), never for /healthz', async () => {
    const base = await serve({ token: 'ops-token-ops-token-ops-token' });
    for (const path of ['/readyz', '/metrics']) {
      const refused = await get(`${base}${path}`, 'wrong');
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toEqual({ errors: [{ message: 'This operational endpoint needs the operations token.', extensions: { code: 'UNAUTHENTICATED' } }] });
      expect((await get(`${base}${path}`, 'ops-token-ops-token-ops-token')).status).toBe(200);
    }
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });

  it('leaves /readyz and /metrics out when not operational here', async () => {
    const base = await serve({ operational: false });
    expect((await get(`${base}/metrics`)).status).toBe(404);
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });
});
