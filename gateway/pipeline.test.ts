import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { FolioError } from '../lib/errors.js';
import { ANONYMOUS } from '../lib/identity.js';
import { createLogger } from '../lib/logger.js';
import type { OpsEndpoints } from '../lib/http/ops.js';
import type { GatewayContext } from './context.js';
import { createRequestHandler } from './handler.js';
import { around, checkStages, createPipeline, GATEWAY_STAGES, PROVIDED, stageOf, step, type EdgeEnv, type RequestFacts } from './pipeline.js';
import { createAdmission } from './plugins/admission.js';
import type { Authenticator } from './plugins/auth.js';
import { createInflightDedup } from './plugins/inflightDedup.js';
import { createLoadShedder } from './plugins/loadShedding.js';
import { createGatewayMetrics } from './plugins/metrics.js';
import { createResponseCache } from './plugins/responseCache.js';
import { createSubscriptionService, closeCodeOf, CLOSE_CODES } from './subscriptions/service.js';
import { SyncHub } from './subscriptions/feed.js';

/** Tokens "user-<id>" are that user. */
const auth: Authenticator = {
  async authenticate(headers, origin) {
    const token = headers.authorization?.replace(/^Bearer /, '');
    if (!token) return { caller: { ...ANONYMOUS, ...origin }, rateLimit: undefined };
    return { caller: { ...ANONYMOUS, ...origin, userId: token.replace(/^user-/, ''), roles: ['READER'], sessionId: token }, rateLimit: undefined };
  },
};

const edge = (overrides: Partial<EdgeEnv> = {}): EdgeEnv => ({
  isDraining: () => false,
  clientAddress: () => '127.0.0.1',
  territory: () => null,
  auth,
  rateLimiter: { consume: async () => {} },
  ...overrides,
});

describe('the stage list', () => {
  it('is consistent for every entry, in the documented order', () => {
    expect(() => checkStages(GATEWAY_STAGES)).not.toThrow();
    const pipeline = createPipeline({ edge: edge() });
    expect(pipeline.stagesOf('connect')).toEqual(['draining', 'clientAddress', 'credentials', 'authenticate', 'signedInUser', 'loadShedding', 'rateLimit']);
    expect(pipeline.stagesOf('subscribe')).toEqual(['loadShedding', 'rateLimit']);
    expect(() => pipeline.run('http', {})).toThrow(/no http entry/);
  });

  it('fails at start-up when a stage reads a fact no earlier stage writes', () => {
    const reader = step<'caller'>({ name: 'needsCaller', on: ['connect'], reads: ['caller'], writes: [], run: () => {} });
    const writer = step({ name: 'writesCaller', on: ['connect'], reads: [], writes: ['caller'], run: () => {} });
    expect(() => createPipeline({ edge: edge() }, { stages: [reader, writer] })).toThrow(/\(connect\): stage "needsCaller" reads "caller"/);
    expect(() => createPipeline({ edge: edge() }, { stages: [writer, reader] })).not.toThrow();
    // Written on another entry only does not count.
    const elsewhere = step({ name: 'writesCaller', on: ['http'], reads: [], writes: ['caller'], run: () => {} });
    expect(() => checkStages([elsewhere, reader])).toThrow(/needsCaller/);
    // An around stage's reads after next() need a later writer.
    const late = around({ name: 'late', on: ['subscribe'], reads: [], writes: [], readsAfterNext: ['response'], run: (_f, _e, next) => next() });
    expect(() => checkStages([late])).toThrow(/"late" reads "response" after the rest of the chain/);
    expect(() => checkStages([step({ name: 'a', on: ['connect'], reads: [], writes: [], run: () => {} }), step({ name: 'a', on: ['http'], reads: [], writes: [], run: () => {} })])).toThrow(/two stages are named "a"/);
    // Taking a real stage's writer out breaks the real list.
    expect(() => checkStages(GATEWAY_STAGES.filter((s) => s.name !== 'authenticate'))).toThrow(/reads "caller"/);
    expect(() => checkStages(GATEWAY_STAGES.filter((s) => s.name !== 'execute'))).toThrow(/"dedup" reads "response" after the rest/);
  });

  it('in strict mode refuses undeclared reads and writes, and names the refusing stage', async () => {
    const sneaky = step({ name: 'sneaky', on: ['connect'], reads: [], writes: [], run: (facts) => void ((facts as Partial<RequestFacts>).caller = { ...ANONYMOUS }) });
    await expect(createPipeline({ edge: edge() }, { stages: [sneaky], strict: true }).run('connect', { entry: 'connect' })).rejects.toThrow(/"sneaky" writes "caller" without declaring it/);
    const peeker = step({ name: 'peeker', on: ['subscribe'], reads: [], writes: [], run: (facts) => void (facts as Partial<RequestFacts>).caller });
    await expect(createPipeline({ edge: edge() }, { stages: [peeker], strict: true }).run('subscribe', { entry: 'subscribe', caller: ANONYMOUS })).resolves.toBeUndefined(); // provided to subscribe
    const peekBody = step({ name: 'peekBody', on: ['subscribe'], reads: [], writes: [], run: (facts) => void (facts as Partial<RequestFacts>).body });
    await expect(createPipeline({ edge: edge() }, { stages: [peekBody], strict: true }).run('subscribe', { entry: 'subscribe', body: {} })).rejects.toThrow(/"peekBody" reads "body"/);

    const pipeline = createPipeline({ edge: edge({ isDraining: () => true }) }, { strict: true });
    const error = await pipeline.run('connect', { entry: 'connect', req: { headers: {} } as never, connectionParams: undefined }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(stageOf(error)).toBe('draining');
    expect(PROVIDED.subscribe).toContain('caller');
  });
});

describe('HTTP through the stage list (strict: every declaration checked)', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('caches and dedups on the operation kind the execute stage declares (not on what logging wrote)', async () => {
    const executions: string[] = [];
    // Apollo Server stand-in: the operationFacts plugin's facts, a cache hint, a slow answer.
    const apollo = {
      async executeHTTPGraphQLRequest({ httpGraphQLRequest, context }: { httpGraphQLRequest: { body: { query: string } }; context: () => Promise<GatewayContext> }) {
        const ctx = await context();
        const kind = httpGraphQLRequest.body.query.startsWith('mutation') ? 'mutation' : 'query';
        ctx.facts.operationKind = kind as never;
        ctx.facts.operationName = null;
        executions.push(kind);
        await new Promise((r) => setTimeout(r, 50));
        const headers = new HeaderMap([['content-type', 'application/json'], ['cache-control', 'max-age=60, public']]);
        return { status: 200, headers, body: { kind: 'complete', string: `{"data":{"n":${executions.length}}}` } };
      },
    } as unknown as ApolloServer<GatewayContext>;
    const metrics = createGatewayMetrics();
    const pipeline = createPipeline(
      {
        edge: edge({ shedder: createLoadShedder({ metrics }) }),
        http: {
          apollo,
          secret: 'test-secret-test-secret-test-secret-0123',
          maxBodyBytes: 10_000,
          maxStaffBodyBytes: 10_000,
          admission: createAdmission(),
          trustedDocuments: { apply: async () => {} },
          responseCache: createResponseCache({ metrics }),
          dedup: createInflightDedup(),
          metrics,
        },
      },
      { strict: true },
    );
    expect(pipeline.stagesOf('http').slice(0, 3)).toEqual(['trace', 'metrics', 'draining']);
    const ops = { handle: async () => false } as unknown as OpsEndpoints;
    server = http.createServer(createRequestHandler({ pipeline, graphqlPath: '/graphql', ops, logger: createLogger('test', 'silent') }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const post = (query: string, variables?: object) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });

    // Unknown document: executes; its kind is learned and its answer stored.
    const first = await post('{ n }');
    expect(first.headers.get('x-cache')).toBeNull();
    expect(await first.json()).toEqual({ data: { n: 1 } });
    const second = await post('{ n }');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await second.json()).toEqual({ data: { n: 1 } });
    // A document once seen to be a query: concurrent identical requests share one execution.
    await post('{ n m }', { v: 1 });
    const [a, b] = await Promise.all([post('{ n m }', { v: 2 }), post('{ n m }', { v: 2 })]);
    expect(await a.text()).toBe(await b.text());
    expect(await metrics.registry.getSingleMetricAsString('folio_gateway_dedup_joined_total')).toMatch(/stage="inbound"[^}]*\} 1/);
    // Mutations are never stored.
    await post('mutation { n }');
    const again = await post('mutation { n }');
    expect(again.headers.get('x-cache')).toBeNull();
    expect(executions).toEqual(['query', 'query', 'query', 'mutation', 'mutation']);
    // Refusals keep their status through the stages.
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    const requests = await metrics.registry.getSingleMetricAsString('folio_graphql_requests_total');
    expect(requests).toMatch(/status="200"[^}]*\} 7/);
    expect(requests).toMatch(/status="400"[^}]*\} 1/);
  });
});

describe('load shedding on subscriptions', () => {
  it('refuses connects (close 1013) and subscribes (503) while the gateway is overloaded', async () => {
    let overloaded = false;
    const shedder = {
      enter() {
        if (overloaded) throw new FolioError('SERVICE_OVERLOADED', undefined, { details: { retryAfterSeconds: 1 } });
      },
      leave() {},
      inFlight: 0,
      lagMs: 0,
      close() {},
    };
    const deps = {
      apollo: { executeOperation: async () => ({ body: { kind: 'single', singleResult: { data: { readingProgressChanged: null } } } }) } as unknown as ApolloServer<GatewayContext>,
      secret: 'test-secret-test-secret-test-secret-0123',
      ...edge(),
      hub: new SyncHub(),
      feed: { ready: async () => true, position: 0, stop: async () => {} },
      metrics: createGatewayMetrics(),
      logger: createLogger('test', 'silent'),
      limits: { maxConnectionsPerUser: 5, maxPerUser: 10, maxQueuedEvents: 3, maxBufferedBytes: 1 << 20, maxTokens: 1000, maxDocumentBytes: 10_000, recheckMs: 60_000 },
    };
    const service = createSubscriptionService({ ...deps, pipeline: createPipeline({ edge: edge({ shedder }) }, { strict: true }) });
    try {
      const req = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as never;
      const side = { transport: 'ws' as const, cut: () => {}, bufferedBytes: () => 0 };
      const connection = await service.connect(req, { authorization: 'Bearer user-1' }, side);
      overloaded = true;
      const refused = await service.connect(req, { authorization: 'Bearer user-1' }, side).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'SERVICE_OVERLOADED', httpStatus: 503 });
      expect(closeCodeOf(refused)).toBe(CLOSE_CODES.TRY_AGAIN_LATER);
      expect(closeCodeOf(refused)).toBe(1013);
      await expect(connection.subscribe({ query: 'subscription { readingProgressChanged { deviceId } }' })).rejects.toMatchObject({ code: 'SERVICE_OVERLOADED' });
      overloaded = false;
      const events = await connection.subscribe({ query: 'subscription { readingProgressChanged { deviceId } }' });
      expect(Symbol.asyncIterator in events).toBe(true);
      const refusals = await deps.metrics.registry.getSingleMetricAsString('folio_gateway_subscription_refused_total');
      expect(refusals).toMatch(/stage="loadShedding",service="gateway"\} 2/);
      expect(service.connectionCount).toBe(1);
    } finally {
      service.stop();
    }
  });
});
