/**
 * Issue 9 §7, from a hostile client's side, against a production platform: what error messages,
 * status codes, operational endpoints, metric labels and logs give away or can be made to do.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../../lib/config.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { errorCodes, graphql, startTestPlatform, TEST_OPS_TOKEN, type GraphQLResponse, type TestPlatform } from '../kit/platform.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('a hostile client against a production gateway', () => {
  let platform: TestPlatform;
  let base: string;
  let opsGateway: RunningGateway;
  const logs: Array<{ level: number; msg: string }> = [];

  beforeAll(async () => {
    platform = await startTestPlatform({ env: { NODE_ENV: 'production', FOLIO_PASSWORD_SCRYPT_LOG_N: '15' } });
    base = platform.gateway.replace(/\/graphql$/, '');
    // A second gateway on the same subgraphs, with the operational endpoints on a port of their own
    // and its logs captured (debug and up).
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, platform.services[n]!.url]));
    const config = { ...platform.config, gateway: { ...platform.config.gateway, opsPort: 0 } };
    opsGateway = await startGateway(config, { subgraphUrls, logger: pino({ level: 'debug' }, sink) });
  }, 60_000);
  afterAll(async () => {
    await opsGateway?.stop();
    await platform?.stop();
  });

  const post = (body: unknown, url = platform.gateway): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  describe('suggestions', () => {
    const probes: Array<[string, string, Record<string, unknown>?]> = [
      ['a misspelt field', '{ books(first: 1) { edges { node { titel } } } }'],
      ['a misspelt argument', '{ books(frist: 1) { totalCount } }'],
      ['a misspelt enum literal', '{ search(query: "tea", mode: HYBRI) { books { totalCount } } }'],
      ['a misspelt enum variable', 'query($m: SearchMode) { search(query: "tea", mode: $m) { books { totalCount } } }', { m: 'HYBRI' }],
      ['a misspelt input field', '{ books(filter: { langauge: "en" }) { totalCount } }'],
    ];
    it.each(probes)('are never given for %s, nor hinted at by a marker', async (_name, query, variables) => {
      const result = await graphql(platform.gateway, query, variables);
      expect(result.status).toBe(400);
      expect(errorCodes(result)[0]).toMatch(/^(GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT)$/);
      const text = JSON.stringify(result.errors);
      expect(text).not.toMatch(/Did you mean|Suggestion|hidden/i);
      expect(text).not.toMatch(/"(title|first|HYBRID|language)\\"/);
    });
  });

  describe('operational endpoints', () => {
    it('refuses /metrics and /readyz on the public port without the operations token, keeps /healthz public', async () => {
      for (const path of ['/metrics', '/readyz']) {
        for (const headers of [{}, bearer('guess-guess-guess-guess-guess'), { authorization: TEST_OPS_TOKEN }]) {
          const response = await fetch(`${base}${path}`, { headers });
          expect({ path, status: response.status }).toEqual({ path, status: 401 });
          expect(await response.text()).not.toMatch(/folio_|subgraphs|accounts/);
        }
        expect((await fetch(`${base}${path}`, { headers: bearer(TEST_OPS_TOKEN) })).status).toBe(200);
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });

    it('refuses a subgraph’s /metrics and /readyz without the token', async () => {
      const catalog = platform.services.catalog!.url.replace(/\/graphql$/, '');
      expect((await fetch(`${catalog}/metrics`)).status).toBe(401);
      expect((await fetch(`${catalog}/readyz`)).status).toBe(401);
      expect((await fetch(`${catalog}/metrics`, { headers: bearer(TEST_OPS_TOKEN) })).status).toBe(200);
    });

    it('with an operations port, serves /metrics and /readyz there only', async () => {
      const publicBase = opsGateway.url.replace(/\/graphql$/, '');
      expect(opsGateway.opsUrl).not.toBe(publicBase);
      for (const path of ['/metrics', '/readyz']) {
        expect((await fetch(`${publicBase}${path}`, { headers: bearer(TEST_OPS_TOKEN) })).status).toBe(404);
        expect((await fetch(`${opsGateway.opsUrl}${path}`, { headers: bearer(TEST_OPS_TOKEN) })).status).toBe(200);
      }
      expect((await fetch(`${publicBase}/healthz`)).status).toBe(200);
    });
  });

  it('cannot mint metric labels: invented operation names are "other", and the label set stays bounded', async () => {
    // Names that match no operation of the document never run.
    for (let i = 0; i < 20; i += 1) await post({ query: 'query Real { __typename }', operationName: `Invented${i}` });
    // Names of operations that do run: more than the gateway keeps.
    for (let batch = 0; batch < 5; batch += 1) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => post({ query: `query Flood${batch * 50 + i} { __typename }` })));
    }
    const metrics = await (await fetch(`${base}/metrics`, { headers: bearer(TEST_OPS_TOKEN) })).text();
    const labels = new Set([...metrics.matchAll(/folio_graphql_requests_total\{[^}]*operation="([^"]+)"/g)].map((m) => m[1]));
    expect([...labels].filter((l) => l?.startsWith('Invented'))).toEqual([]);
    expect(labels.has('other')).toBe(true);
    expect(labels.size).toBeLessThanOrEqual(200 + 2); // the bound, plus "other" and "anonymous"
    expect(labels.has('Flood249')).toBe(true); // the most recent are kept
  });

  describe('client errors are 4xx with stable codes', () => {
    const cases: Array<[string, unknown, number, string]> = [
      ['a syntax error', { query: '{ books { totalCount ' }, 400, 'GRAPHQL_PARSE_FAILED'],
      ['the token limit', { query: `{ ${'__typename '.repeat(3100)}}` }, 400, 'OPERATION_LIMIT_EXCEEDED'],
      ['an unknown operationName', { query: 'query A { __typename }', operationName: 'B' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
      ['several operations without operationName', { query: 'query A { __typename } query B { __typename }' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
      // A valid subscription (the schema has them now: served over graphql-ws and SSE only).
      ['a subscription', { query: 'subscription { shelfChanged { op } }' }, 400, 'BAD_REQUEST'],
      ['an APQ hash that does not match', { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }, 400, 'BAD_REQUEST'],
    ];
    it.each(cases)('%s', async (_name, body, status, code) => {
      const response = await post(body);
      const result = (await response.json()) as GraphQLResponse;
      expect({ status: response.status, codes: result.errors?.map((e) => e.extensions?.code) }).toEqual({ status, codes: [code] });
      expect(result.errors?.[0]?.message).not.toMatch(/Internal server error|more that/);
    });
  });

  it('logs a client that hangs up mid-body at debug, not as an error', async () => {
    const { port } = new URL(opsGateway.url);
    const before = logs.length;
    for (let i = 0; i < 5; i += 1) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"query":"{ __type');
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('close', () => resolve());
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const entries = logs.slice(before);
    expect(entries.filter((e) => e.level >= 50)).toEqual([]);
    expect(entries.filter((e) => e.level === 20 && /went away/.test(e.msg))).toHaveLength(5);
  });
});
