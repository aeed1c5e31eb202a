/**
 * Subscriptions about shared things (uploadJobUpdated, repairJobUpdated, publicNoteAdded): fan-out by
 * topic and producer, and the subscribe-time refusal coming from the owning subgraph's dry run.
 */
import type { IncomingMessage } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { FolioError } from '../../lib/errors.js';
import type { FolioEvent } from '../../lib/events.js';
import { ANONYMOUS, type Role } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import type { Authenticator } from '../plugins/auth.js';
import { createGatewayMetrics } from '../plugins/metrics.js';
import { SyncHub, type FeedFollower } from './feed.js';
import { prepareSubscription } from './operation.js';
import { CLOSE_CODES, createSubscriptionService, type SubscriptionService, type TransportSide } from './service.js';

const req = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
let seq = 0;
const event = (type: string, payload: Record<string, unknown>): FolioEvent => ({ seq: ++seq, type, payload, createdAt: new Date().toISOString() });

describe('SyncHub topics', () => {
  it('hands an event to the subscribers of its thing, per producer, and no user event to a topic or the other way round', () => {
    const hub = new SyncHub();
    const got: string[] = [];
    const offPara = hub.listenTopic({ producer: 'ugc', key: 'paragraphId', value: 'p1' }, (e) => got.push(`p1:${e.seq}`));
    hub.listenTopic({ producer: 'catalog', key: 'jobId', value: 'j1' }, (e) => got.push(`j1:${e.seq}`));
    hub.listen('alice', (e) => got.push(`alice:${e.seq}`));

    const note = event('NoteWritten', { userId: 'bob', paragraphId: 'p1' });
    expect(hub.publish(note, 'ugc')).toBe(1);
    // Catalog's seqs are another sequence: a catalog event never reaches ugc topics or users.
    const job = event('UploadJobUpdated', { jobId: 'j1', paragraphId: 'p1', userId: 'alice' });
    expect(hub.publish(job, 'catalog')).toBe(1);
    expect(hub.publish(event('UploadJobUpdated', { jobId: 'j1' }), 'ugc')).toBe(0);
    expect(hub.publish(event('NoteWritten', { userId: 'bob', paragraphId: 'p2' }), 'ugc')).toBe(0);
    const own = event('NoteWritten', { userId: 'alice', paragraphId: 'p1' });
    expect(hub.publish(own)).toBe(2);
    expect(got).toEqual([`p1:${note.seq}`, `j1:${job.seq}`, `alice:${own.seq}`, `p1:${own.seq}`]);

    offPara();
    expect(hub.publish(event('NoteWritten', { paragraphId: 'p1' }))).toBe(0);
  });
});

describe('prepareSubscription for shared fields', () => {
  const limits = { maxTokens: 1000, maxBytes: 10_000 };
  it('listens to the thing named by the argument, on its owner’s feed', () => {
    expect(prepareSubscription({ query: 'subscription($id: ID!) { uploadJobUpdated(id: $id) { status } }', variables: { id: 'j1' } }, limits).topic).toEqual({ producer: 'catalog', key: 'jobId', value: 'j1' });
    expect(prepareSubscription({ query: 'subscription { repairJobUpdated(bookId: "b1") { status } }' }, limits).topic).toEqual({ producer: 'ugc', key: 'bookId', value: 'b1' });
    const notes = prepareSubscription({ query: 'subscription { added: publicNoteAdded(paragraphId: "p1") { text } }' }, limits);
    expect(notes.topic).toEqual({ producer: 'ugc', key: 'paragraphId', value: 'p1' });
    expect(notes.query).toContain('added: publicNoteAddition(paragraphId: "p1", seq: $folioSyncSeq)');
    // Only notes a write made public pass the gateway's pre-filter.
    expect(notes.field.matches!({ paragraphId: 'p1', visibility: 'PRIVATE', becamePublic: false }, notes.args)).toBe(false);
    expect(notes.field.matches!({ paragraphId: 'p1', visibility: 'PUBLIC', becamePublic: false }, notes.args)).toBe(false);
    expect(notes.field.matches!({ paragraphId: 'p1', visibility: 'PUBLIC', becamePublic: true }, notes.args)).toBe(true);
  });

  it('refuses a shared field without its argument', () => {
    expect(() => prepareSubscription({ query: 'subscription($id: ID!) { uploadJobUpdated(id: $id) { status } }' }, limits)).toThrow(/"id" argument/);
  });
});

// --- the service, with a fake Apollo playing the owning subgraphs' policies ---------------------

/** Tokens "<role>-<user>" (e.g. "EDITOR-erin"); `roles` overrides a user's roles (a role change). */
function fakeAuth(roles: Map<string, Role[]>): Authenticator {
  return {
    async authenticate(headers, origin) {
      const token = headers.authorization?.replace(/^Bearer /, '');
      if (!token) throw new FolioError('UNAUTHENTICATED');
      const [role, userId] = token.split('-') as [Role, string];
      return { caller: { ...ANONYMOUS, ...origin, userId, roles: roles.get(userId) ?? ['READER', role], sessionId: token }, rateLimit: undefined };
    },
  };
}

/**
 * Staff-only fields refuse readers (FORBIDDEN, as catalog's and ugc's policies do); publicNoteAddition
 * answers null for seqs in `unreadable` (the subgraph's per-event check) and the note otherwise.
 */
const unreadable = new Set<string>();
const apollo = {
  async executeOperation(request: { query: string; variables: { folioSyncSeq: string } }, { contextValue }: { contextValue: GatewayContext }) {
    const s = request.variables.folioSyncSeq;
    const staff = contextValue.caller.roles.includes('EDITOR');
    const field = /(uploadJobUpdated|repairJobUpdated|publicNoteAdded)/.exec(request.query)![1]!;
    if (field !== 'publicNoteAdded' && !staff) {
      return { body: { kind: 'single', singleResult: { data: { [field]: null }, errors: [{ message: 'Only EDITOR or ADMIN users may do that.', extensions: { code: 'FORBIDDEN' } }] } } };
    }
    const value = s === '0' || unreadable.has(s) ? null : { seq: s };
    return { body: { kind: 'single', singleResult: { data: { [field]: value } } } };
  },
} as unknown as ApolloServer<GatewayContext>;

const ready: FeedFollower = { ready: async () => true, position: 0, stop: async () => {} };

function setup(options: { catalogFeed?: boolean; recheckMs?: number } = {}) {
  const hub = new SyncHub();
  const roles = new Map<string, Role[]>();
  const service = createSubscriptionService({
    apollo,
    secret: 'test-secret-test-secret-test-secret-0123',
    auth: fakeAuth(roles),
    clientAddress: () => '127.0.0.1',
    territory: () => null,
    rateLimiter: { consume: async () => {} },
    hub,
    feed: ready,
    feeds: options.catalogFeed === false ? {} : { catalog: ready },
    metrics: createGatewayMetrics(),
    logger: createLogger('test', 'silent'),
    isDraining: () => false,
    limits: { maxConnectionsPerUser: 5, maxPerUser: 10, maxQueuedEvents: 10, maxBufferedBytes: 1 << 20, maxTokens: 1000, maxDocumentBytes: 10_000, recheckMs: options.recheckMs ?? 60_000 },
  });
  services.push(service);
  return { hub, roles, service };
}

function side(): TransportSide & { cuts: Array<[number, string]> } {
  const cuts: Array<[number, string]> = [];
  return { transport: 'ws', cuts, cut: (code, reason) => void cuts.push([code, reason]), bufferedBytes: () => 0 };
}

type Stream = AsyncIterableIterator<{ data: Record<string, { seq: string } | null> }>;
let services: SubscriptionService[] = [];
afterEach(() => {
  for (const s of services) s.stop();
  services = [];
  unreadable.clear();
});

const UPLOAD = 'subscription { uploadJobUpdated(id: "j1") { status } }';
const REPAIR = 'subscription { repairJobUpdated(bookId: "b1") { status } }';
const NOTES = 'subscription { publicNoteAdded(paragraphId: "p1") { text } }';

describe('shared subscriptions', () => {
  it('refuses a reader at subscribe for upload and repair jobs (FORBIDDEN from the dry run), and admits an editor', async () => {
    const { service } = setup();
    const reader = await service.connect(req, { authorization: 'Bearer READER-rita' }, side());
    for (const query of [UPLOAD, REPAIR]) {
      const refused = await reader.subscribe({ query });
      expect(refused).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    }
    const editor = await service.connect(req, { authorization: 'Bearer EDITOR-erin' }, side());
    expect(Symbol.asyncIterator in (await editor.subscribe({ query: UPLOAD }))).toBe(true);
  });

  it("hands an editor the job's events from catalog's feed, whoever caused them, and not another job's", async () => {
    const { hub, service } = setup();
    const editor = await service.connect(req, { authorization: 'Bearer EDITOR-erin' }, side());
    const events = (await editor.subscribe({ query: UPLOAD })) as Stream;
    hub.publish(event('UploadJobUpdated', { jobId: 'j2', status: 'PARSING' }), 'catalog');
    hub.publish(event('UploadJobUpdated', { jobId: 'j1', status: 'PARSING' }), 'ugc'); // same key, wrong producer
    const mine = event('UploadJobUpdated', { jobId: 'j1', status: 'STORED' });
    hub.publish(mine, 'catalog');
    expect((await events.next()).value).toEqual({ data: { uploadJobUpdated: { seq: String(mine.seq) } } });
  });

  it("delivers other readers' public notes on the paragraph, skips what the subgraph answers null for", async () => {
    const { hub, service } = setup();
    const alice = await service.connect(req, { authorization: 'Bearer READER-alice' }, side());
    const events = (await alice.subscribe({ query: NOTES })) as Stream;
    hub.publish(event('NoteWritten', { userId: 'bob', paragraphId: 'p1', visibility: 'PRIVATE', becamePublic: false }));
    const hidden = event('NoteWritten', { userId: 'bob', paragraphId: 'p1', visibility: 'PUBLIC', becamePublic: true });
    unreadable.add(String(hidden.seq)); // e.g. the book's licence changed meanwhile
    hub.publish(hidden);
    const shown = event('NoteWritten', { userId: 'bob', paragraphId: 'p1', visibility: 'PUBLIC', becamePublic: true });
    hub.publish(shown);
    expect((await events.next()).value).toEqual({ data: { publicNoteAdded: { seq: String(shown.seq) } } });
  });

  it('refuses uploadJobUpdated while catalog’s feed is not followed (SERVICE_UNAVAILABLE)', async () => {
    const { service } = setup({ catalogFeed: false });
    const editor = await service.connect(req, { authorization: 'Bearer EDITOR-erin' }, side());
    await expect(editor.subscribe({ query: UPLOAD })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('closes the connection (4401) when the user’s roles change, so staff-only subscriptions do not outlive the role', async () => {
    const { roles, service } = setup({ recheckMs: 50 });
    const transport = side();
    const editor = await service.connect(req, { authorization: 'Bearer EDITOR-erin' }, transport);
    await editor.subscribe({ query: REPAIR });
    roles.set('erin', ['READER']);
    const deadline = Date.now() + 5000;
    while (transport.cuts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(transport.cuts[0]).toEqual([CLOSE_CODES.UNAUTHENTICATED, expect.stringMatching(/roles changed/)]);
  });
});
