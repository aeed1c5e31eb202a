/**
 * Live sync through the gateway (gateway/subscriptions/): graphql-ws and GraphQL over SSE with the
 * stock clients. Two devices of one reader, another reader on the side, refusals at connect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { collect, sseClient, wsConnect, type WsConnection } from './kit/subscriptions.js';
import { ADD_TO_SHELF, UPDATE_PROGRESS, chaptersOf, highlightWords, type ChapterView } from './kit/ugc.js';

const TITLE = 'Tides of the Northern Sea';
const PROGRESS = /* GraphQL */ `
  subscription Progress { readingProgressChanged { seq deviceId percent offset bookId book { title } } }
`;
const ANNOTATIONS = /* GraphQL */ `
  subscription Annotations($bookId: ID) { myAnnotationsChanged(bookId: $bookId) { kind op id book { title } highlight { quote } } }
`;
const SHELF = /* GraphQL */ `
  subscription Shelf { shelfChanged { op bookId book { title } entry { finished } } }
`;
const MAX_CONNECTIONS = 3;

let platform: TestPlatform;
let alice: TestUser;
let bob: TestUser;
let bookId: string;
let chapters: ChapterView[];
const open: WsConnection[] = [];

function connect(token: string | undefined): WsConnection {
  const connection = wsConnect(platform.gateway, token);
  open.push(connection);
  return connection;
}

const progress = (token: string, deviceId: string, percent: number) =>
  mustQuery(platform.gateway, UPDATE_PROGRESS, { bookId, input: { offset: percent * 10, percent, clientTime: new Date().toISOString(), deviceId } }, { token });

beforeAll(async () => {
  platform = await startTestPlatform({
    env: { FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS), FOLIO_GATEWAY_AUTH_CACHE_SECONDS: '1' },
  });
  const editor = await registerEditor(platform.gateway);
  [alice, bob] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
  ({ bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub({
    title: TITLE,
    authors: ['Folio Tests'],
    language: 'en',
    chapters: [{ title: 'One', paragraphs: ['The gulls circled the harbour wall while the boats came home with the evening tide.'] }],
  }), { title: TITLE }));
  chapters = await chaptersOf(platform.gateway, alice.token, bookId);
}, 90_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await platform?.stop();
});

describe('subscriptions over graphql-ws', () => {
  it("delivers a progress change on one device to the reader's other device, book title resolved by catalog, and never to another reader", async () => {
    const phone = connect(alice.token);
    const bobsPhone = connect(bob.token);
    await Promise.all([phone.opened, bobsPhone.opened]);
    const onPhone = collect(phone.client, PROGRESS);
    const onBobsPhone = collect(bobsPhone.client, PROGRESS);
    // Subscribed once the dry run answered: wait for it through a harmless round trip.
    await new Promise((r) => setTimeout(r, 300));

    await progress(alice.token, 'tablet', 42);
    const event = await onPhone.nth(0);
    expect(event.errors).toBeUndefined();
    expect(event.data?.readingProgressChanged).toMatchObject({ deviceId: 'tablet', percent: 42, offset: 420, bookId, book: { title: TITLE } });

    // Bob's own change reaches Bob, and only Bob: Alice's event never reached him before it.
    await progress(bob.token, 'bobs-tablet', 7);
    const bobsEvent = await onBobsPhone.nth(0);
    expect(bobsEvent.data?.readingProgressChanged).toMatchObject({ deviceId: 'bobs-tablet', percent: 7 });
    await new Promise((r) => setTimeout(r, 300));
    expect(onBobsPhone.events).toHaveLength(1);
    expect(onPhone.events).toHaveLength(1);
    onPhone.unsubscribe();
    onBobsPhone.unsubscribe();
    await Promise.all([phone.dispose(), bobsPhone.dispose()]);
  });

  it('asking for another reader’s change by seq answers null (the subgraph checks ownership too)', async () => {
    const tablet = connect(alice.token);
    await tablet.opened;
    const onTablet = collect(tablet.client, PROGRESS);
    await new Promise((r) => setTimeout(r, 300));
    await progress(alice.token, 'phone', 55);
    const { seq } = (await onTablet.nth(0)).data!.readingProgressChanged as { seq: string };
    const asBob = await mustQuery(platform.gateway, `query($seq: ID!) { readingProgressChange(seq: $seq) { deviceId } }`, { seq }, { token: bob.token });
    expect(asBob.readingProgressChange).toBeNull();
    const asAlice = await mustQuery(platform.gateway, `query($seq: ID!) { readingProgressChange(seq: $seq) { deviceId } }`, { seq }, { token: alice.token });
    expect(asAlice.readingProgressChange).toEqual({ deviceId: 'phone' });
    await tablet.dispose();
  });

  it('refuses a bad token at connect (4401) and anonymous callers', async () => {
    const bad = connect('not-a-real-session-token');
    await expect(bad.opened).rejects.toThrow(/4401/);
    const anonymous = connect(undefined);
    await expect(anonymous.opened).rejects.toThrow(/4401/);
  });

  it('refuses queries over WebSocket and invalid selections at subscribe time', async () => {
    const c = connect(alice.token);
    await c.opened;
    const query = collect(c.client, '{ __typename }');
    await query.ended();
    expect(JSON.stringify(query.error)).toMatch(/BAD_REQUEST/);
    const invalid = collect(c.client, 'subscription { readingProgressChanged { noSuchField } }');
    await invalid.ended();
    expect(JSON.stringify(invalid.error)).toMatch(/noSuchField/);
    await c.dispose();
  });

  it(`refuses a connection over the per-user cap (${MAX_CONNECTIONS}) with 4430, and admits again once one closed`, async () => {
    const carol = await registerUser(platform.gateway);
    const first = Array.from({ length: MAX_CONNECTIONS }, () => connect(carol.token));
    await Promise.all(first.map((c) => c.opened));
    const over = connect(carol.token);
    await expect(over.opened).rejects.toThrow(/4430/);
    await first[0]!.dispose();
    await new Promise((r) => setTimeout(r, 200));
    const again = connect(carol.token);
    await again.opened;
    await Promise.all([...first.slice(1), again].map((c) => c.dispose()));
  });

  it('closes the connection (4401) once the session is logged out', async () => {
    const dave = await registerUser(platform.gateway);
    const c = connect(dave.token);
    await c.opened;
    await mustQuery(platform.gateway, 'mutation { logout }', {}, { token: dave.token });
    const deadline = Date.now() + 6000;
    while (c.closed.code === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(c.closed.code).toBe(4401);
  });
});

describe('subscriptions over SSE', () => {
  it('delivers highlight and shelf changes, filtered by book, with catalog fields', async () => {
    const client = sseClient(platform.gateway, alice.token);
    const annotations = collect(client, ANNOTATIONS, { bookId });
    const otherBook = collect(client, ANNOTATIONS, { bookId: 'some-other-book' });
    const shelf = collect(client, SHELF);
    await new Promise((r) => setTimeout(r, 500));

    const highlight = await highlightWords(platform.gateway, alice.token, chapters[0]!, 'boats came home');
    const created = await annotations.nth(0);
    expect(created.data?.myAnnotationsChanged).toEqual({ kind: 'HIGHLIGHT', op: 'CREATED', id: highlight.id, book: { title: TITLE }, highlight: { quote: 'boats came home' } });

    await mustQuery(platform.gateway, ADD_TO_SHELF, { bookId }, { token: alice.token });
    const added = await shelf.nth(0);
    expect(added.data?.shelfChanged).toEqual({ op: 'CREATED', bookId, book: { title: TITLE }, entry: { finished: false } });

    // Bob's highlight never reaches Alice's streams.
    await highlightWords(platform.gateway, bob.token, chapters[0]!, 'harbour wall');
    await mustQuery(platform.gateway, 'mutation($id: ID!) { deleteHighlight(id: $id) }', { id: highlight.id }, { token: alice.token });
    const deleted = await annotations.nth(1);
    expect(deleted.data?.myAnnotationsChanged).toMatchObject({ op: 'DELETED', id: highlight.id, highlight: null });
    expect(annotations.events).toHaveLength(2);
    expect(otherBook.events).toHaveLength(0);
    annotations.unsubscribe();
    otherBook.unsubscribe();
    shelf.unsubscribe();
    client.dispose();
  });

  it('refuses a bad token with 401', async () => {
    const client = sseClient(platform.gateway, 'not-a-real-session-token');
    const refused = collect(client, SHELF);
    await refused.ended();
    expect(String((refused.error as Error)?.message ?? refused.error)).toMatch(/401|UNAUTHENTICATED/);
    expect(refused.events).toHaveLength(0);
    client.dispose();
  });
});
