/** Gateway protections, through a real gateway and real subgraphs: operation limits, rate limits, body size, forged headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsHeaders, startTestStack, type TestStack } from './kit/gatewayStack.js';
import { errorCodes, graphql } from './kit/platform.js';

describe('gateway protections', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ FOLIO_GATEWAY_MAX_DEPTH: '4', FOLIO_GATEWAY_MAX_COST: '100', FOLIO_GATEWAY_MAX_BODY_BYTES: '20000' });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('answers a federated query across subgraphs', async () => {
    const result = await graphql(stack.gateway, '{ books { id title rating } }');
    expect(result.errors).toBeUndefined();
    expect(result.data?.books[0]).toEqual({ id: 'b1', title: 'Dream of the Red Chamber', rating: 5.5 });
  });

  it('refuses a too-deep query with OPERATION_LIMIT_EXCEEDED', async () => {
    const result = await graphql(stack.gateway, '{ books { related { related { related { related { id } } } } } }');
    expect(result.data).toBeUndefined();
    expect(errorCodes(result)).toEqual(['OPERATION_LIMIT_EXCEEDED']);
    expect(result.errors?.[0]?.message).toMatch(/depth limit of 4/);
    expect(result.errors?.[0]?.extensions?.limit).toBe('depth');
  });

  it('refuses an over-cost query', async () => {
    const fields = Array.from({ length: 25 }, (_, i) => `a${i}: books { id title }`).join(' ');
    const result = await graphql(stack.gateway, `{ ${fields} }`);
    expect(errorCodes(result)).toContain('OPERATION_LIMIT_EXCEEDED');
    expect(result.errors?.some((e) => /cost/i.test(e.message))).toBe(true);
  });

  it('refuses a body over the size limit with PAYLOAD_TOO_LARGE (413)', async () => {
    const result = await graphql(stack.gateway, `{ books { id } } # ${'x'.repeat(30_000)}`);
    expect(result.status).toBe(413);
    expect(errorCodes(result)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('strips forged internal headers: subgraphs see only the signed identity', async () => {
    const result = await graphql(stack.gateway, '{ whoami { userId forgedUserHeader clientAddress } }', {}, {
      headers: { 'x-folio-user-id': 'u-admin', 'x-folio-roles': 'ADMIN', 'x-folio-forged-user-id': 'u-admin', 'x-folio-signature': 'forged' },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.whoami).toMatchObject({ userId: null, forgedUserHeader: null });
    expect(result.data?.whoami.clientAddress).toMatch(/127\.0\.0\.1/);
  });

  it('refuses batched requests and non-JSON bodies as BAD_USER_INPUT', async () => {
    const response = await fetch(stack.gateway, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const base = stack.gateway.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`, { headers: opsHeaders });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', service: 'gateway', checks: { catalog: 'ok', ugc: 'ok', accounts: 'ok' } });
    const metrics = await (await fetch(`${base}/metrics`, { headers: opsHeaders })).text();
    expect(metrics).toMatch(/folio_graphql_requests_total/);
    expect(metrics).toMatch(/folio_gateway_subgraph_request_duration_seconds_bucket\{[^}]*subgraph="catalog"/);
  });
});

describe('gateway rate limits', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '5/60', FOLIO_GATEWAY_RATE_LIMIT_USER: '3/60' });
    stack.accounts.tokens.set('tok-a', { caller: { userId: 'u-a', roles: ['READER'], sessionId: 's-a', partnerId: null, scopes: [] } });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('refuses a burst over the per-address limit with RATE_LIMITED and retry-after, per client application', async () => {
    const app = { 'x-client-name': 'reader-web' };
    const results = [];
    for (let i = 0; i < 7; i += 1) results.push(await graphql(stack.gateway, '{ uncached }', {}, { headers: app }));
    expect(results.slice(0, 5).every((r) => r.status === 200 && !r.errors)).toBe(true);
    const refused = results[5]!;
    expect(refused.status).toBe(429);
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // Another application from the same address has its own budget.
    const other = await graphql(stack.gateway, '{ uncached }', {}, { headers: { 'x-client-name': 'reader-ios' } });
    expect(other.errors).toBeUndefined();
  });

  it('gives a signed-in user a budget of their own', async () => {
    const codes = [];
    for (let i = 0; i < 4; i += 1) codes.push(errorCodes(await graphql(stack.gateway, '{ uncached }', {}, { token: 'tok-a', headers: { 'x-client-name': 'u-app' } }))[0]);
    expect(codes).toEqual([undefined, undefined, undefined, 'RATE_LIMITED']);
  });
});
