import type { IncomingMessage } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { FolioError } from '../../lib/errors.js';
import { ANONYMOUS } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import type { Authenticator } from '../plugins/auth.js';
import { createGatewayMetrics } from '../plugins/metrics.js';
import { SyncHub } from './feed.js';
import { CLOSE_CODES, createSubscriptionService, type SubscriptionService, type TransportSide } from './service.js';

const PROGRESS = 'subscription { readingProgressChanged { seq } }';
const req = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
let seq = 0;

/** Tokens "user-<id>" resolve to that user until revoked. */
function fakeAuth(revoked: Set<string>): Authenticator {
  return {
    async authenticate(headers, origin) {
      const token = headers.authorization?.replace(/^Bearer /, '');
      if (!token || revoked.has(token)) throw new FolioError('UNAUTHENTICATED');
      return { caller: { ...ANONYMOUS, ...origin, userId: token.replace(/^user-/, ''), roles: ['READER'], sessionId: token }, rateLimit: undefined };
    },
  };
}

// Answers every per-event query with the seq it was asked for (the dry run's "0" with null), and
// the catch-up listing (me.changes) from `missed`, in pages of two.
const executed: string[] = [];
const catchUp = { missed: [] as number[], calls: [] as string[], onCall: (): void => {}, error: null as null | { message: string; extensions: { code: string } } };
const apollo = {
  async executeOperation(request: { query: string; variables: { folioSyncSeq: string; after: string } }) {
    if (request.query.includes('FolioSubscriptionCatchUp')) {
      const after = Number(request.variables.after);
      catchUp.calls.push(request.variables.after);
      catchUp.onCall();
      if (catchUp.error) return { body: { kind: 'single', singleResult: { data: { me: null }, errors: [catchUp.error] } } };
      const rest = catchUp.missed.filter((m) => m > after);
      const page = rest.slice(0, 2);
      const changes = { edges: page.map((m) => ({ cursor: String(m) })), pageInfo: { hasNextPage: rest.length > 2, endCursor: String(page.at(-1) ?? after) } };
      return { body: { kind: 'single', singleResult: { data: { me: { changes } } } } };
    }
    const s = request.variables.folioSyncSeq;
    executed.push(s);
    return { body: { kind: 'single', singleResult: { data: { readingProgressChanged: s === '0' ? null : { seq: s } } } } };
  },
} as unknown as ApolloServer<GatewayContext>;

function setup(limits: Partial<{ maxConnectionsPerUser: number; maxQueuedEvents: number; recheckMs: number }> = {}) {
  const hub = new SyncHub();
  const revoked = new Set<string>();
  const service = createSubscriptionService({
    apollo,
    secret: 'test-secret-test-secret-test-secret-0123',
    auth: fakeAuth(revoked),
    clientAddress: () => '127.0.0.1',
    territory: () => null,
    rateLimiter: { consume: async () => {} },
    hub,
    feed: { ready: async () => true, position: 0, stop: async () => {} },
    metrics: createGatewayMetrics(),
    logger: createLogger('test', 'silent'),
    isDraining: () => false,
    limits: { maxConnectionsPerUser: 2, maxPerUser: 10, maxQueuedEvents: 3, maxBufferedBytes: 1 << 20, maxTokens: 1000, maxDocumentBytes: 10_000, recheckMs: 60_000, ...limits },
  });
  return { hub, revoked, service };
}

function side(): TransportSide & { cuts: Array<[number, string]> } {
  const cuts: Array<[number, string]> = [];
  return { transport: 'ws', cuts, cut: (code, reason) => void cuts.push([code, reason]), bufferedBytes: () => 0 };
}

const event = (userId: string, type = 'ProgressUpdated') => ({ seq: ++seq, type, payload: { userId }, createdAt: new Date().toISOString() });

let services: SubscriptionService[] = [];
afterEach(() => {
  for (const s of services) s.stop();
  services = [];
});

describe('subscription service', () => {
  it("hands a subscriber its own user's events of its field's types only", async () => {
    const { hub, service } = setup();
    services.push(service);
    const conn = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    const events = (await conn.subscribe({ query: PROGRESS })) as AsyncIterableIterator<{ data: Record<string, { seq: string }> }>;
    hub.publish(event('bob'));
    hub.publish(event('alice', 'NoteWritten'));
    const mine = event('alice');
    hub.publish(mine);
    expect((await events.next()).value).toEqual({ data: { readingProgressChanged: { seq: String(mine.seq) } } });
  });

  it("runs one execution per event for all of a user's devices holding the same subscription", async () => {
    const { hub, service } = setup();
    services.push(service);
    const phone = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    const tablet = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    const onPhone = (await phone.subscribe({ query: PROGRESS })) as AsyncIterableIterator<unknown>;
    const onTablet = (await tablet.subscribe({ query: PROGRESS })) as AsyncIterableIterator<unknown>;
    const mine = event('alice');
    const pulled = Promise.all([onPhone.next(), onTablet.next()]);
    executed.length = 0;
    hub.publish(mine);
    const [a, b] = await pulled;
    expect(a).toEqual(b);
    expect(executed).toEqual([String(mine.seq)]);
  });

  it('cuts a slow consumer (4413) instead of queueing without bound', async () => {
    const { hub, service } = setup({ maxQueuedEvents: 3 });
    services.push(service);
    const transport = side();
    const conn = await service.connect(req, { authorization: 'Bearer user-alice' }, transport);
    await conn.subscribe({ query: PROGRESS }); // never pulled
    for (let i = 0; i < 4; i++) hub.publish(event('alice'));
    expect(transport.cuts).toEqual([[CLOSE_CODES.SLOW_CONSUMER, expect.stringMatching(/slow consumer/i)]]);
    expect(service.connectionCount).toBe(0);
  });

  it('caps connections per user and refuses anonymous callers', async () => {
    const { service } = setup({ maxConnectionsPerUser: 2 });
    services.push(service);
    const a = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    await expect(service.connect(req, { authorization: 'Bearer user-alice' }, side())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await service.connect(req, { authorization: 'Bearer user-bob' }, side());
    a.close();
    await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    await expect(service.connect(req, undefined, side())).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses queries, several root fields and unknown fields before anything runs', async () => {
    const { service } = setup();
    services.push(service);
    const conn = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    await expect(conn.subscribe({ query: '{ me { id } }' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(conn.subscribe({ query: 'subscription { shelfChanged { op } readingProgressChanged { seq } }' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(conn.subscribe({ query: 'subscription { __typename }' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(conn.subscribe({ query: 'subscription($folioSyncSeq: ID) { shelfChanged { op } }' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('closes a connection (4401) once its session is revoked', async () => {
    const { revoked, service } = setup({ recheckMs: 50 });
    services.push(service);
    const transport = side();
    await service.connect(req, { authorization: 'Bearer user-alice' }, transport);
    revoked.add('user-alice');
    await new Promise((r) => setTimeout(r, 200));
    expect(transport.cuts[0]?.[0]).toBe(CLOSE_CODES.UNAUTHENTICATED);
  });

  it('from a cursor: replays the missed changes, then live events, none twice and none skipped', async () => {
    const { hub, service } = setup({ maxQueuedEvents: 50 });
    services.push(service);
    const base = seq;
    // Missed while offline: base+2..base+6 (base+1 is at or below the cursor, already applied).
    catchUp.missed = [base + 2, base + 3, base + 4, base + 5, base + 6];
    catchUp.calls = [];
    catchUp.error = null;
    // While the catch-up pages are read, the feed (lagging behind the store) delivers base+5, base+6
    // (both replayed too) and then base+7, a change made during the catch-up.
    let fed = false;
    catchUp.onCall = () => {
      if (fed) return;
      fed = true;
      for (const n of [base + 1, base + 5, base + 6, base + 7]) hub.publish({ seq: n, type: 'ProgressUpdated', payload: { userId: 'alice' }, createdAt: '' });
    };
    seq = base + 7;
    const conn = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    const events = (await conn.subscribe({ query: 'subscription($c: ID) { readingProgressChanged(after: $c) { seq } }', variables: { c: String(base + 1) } })) as AsyncIterableIterator<{ data: { readingProgressChanged: { seq: string } } }>;
    expect(catchUp.calls).toEqual([String(base + 1), String(base + 3), String(base + 5)]);
    // After the catch-up: the feed still reaches base+6 (replayed: dropped), then base+8 (live).
    hub.publish({ seq: base + 6, type: 'ProgressUpdated', payload: { userId: 'alice' }, createdAt: '' });
    hub.publish(event('alice'));
    const got: number[] = [];
    for (let i = 0; i < 7; i++) got.push(Number((await events.next()).value.data.readingProgressChanged.seq));
    expect(got).toEqual([base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8]);
  });

  it('from a cursor the subgraph refuses (CURSOR_EXPIRED): the subscription answers that error and holds no slot', async () => {
    const { service } = setup();
    services.push(service);
    catchUp.onCall = () => {};
    catchUp.error = { message: 'resync', extensions: { code: 'CURSOR_EXPIRED' } };
    const conn = await service.connect(req, { authorization: 'Bearer user-alice' }, side());
    const answer = await conn.subscribe({ query: 'subscription { shelfChanged(after: "3") { op } }' });
    expect(answer).toEqual({ errors: [catchUp.error] });
    catchUp.error = null;
    await expect(conn.subscribe({ query: 'subscription { shelfChanged(after: "x") { op } }' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
