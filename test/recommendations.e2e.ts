/**
 * Recommendations through the gateway, from both sides: co-reading comes from readers' public
 * shelves only (k = 2 here), never from secret entries; a book a reader may not read is never
 * recommended; reasons name the reader's own books; dismissals and the personalisation switch
 * take effect at once; nobody sees another reader's list or settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { SET_LICENSE } from './kit/catalog.js';
import { eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { createGenreBook, DISMISS, myRecommendations, SET_PERSONALISED, SIMILAR_BOOKS, type RecommendationView } from './kit/recommendations.js';
import { ADD_TO_SHELF } from './kit/ugc.js';

let platform: TestPlatform;
let editor: TestUser;
let readers: TestUser[];
let alice: TestUser;
let bob: TestUser;
const b: Record<string, string> = {};

const shelve = (user: TestUser, bookId: string, secret = false) => mustQuery(platform.gateway, ADD_TO_SHELF, { bookId, secret }, { token: user.token });
const similar = async (token: string, id: string): Promise<RecommendationView[]> =>
  (await mustQuery<{ book: { similarBooks: RecommendationView[] } }>(platform.gateway, SIMILAR_BOOKS, { id, first: 20 }, { token })).book.similarBooks;
const bookIds = (list: readonly RecommendationView[]): string[] => list.map((r) => r.book!.id);

beforeAll(async () => {
  platform = await startTestPlatform({ env: { FOLIO_POPULAR_HIGHLIGHT_MIN_READERS: '2' } });
  const gw = platform.gateway;
  editor = await registerEditor(gw);
  readers = await Promise.all(Array.from({ length: 4 }, () => registerUser(gw)));
  [alice, bob] = await Promise.all([registerUser(gw), registerUser(gw)]);
  const specs: Array<[string, string, string, number]> = [
    ['seed', 'Salt Road', 'sea', 1],
    ['coRead', 'Glacier Notes', 'mountain', 2],
    ['secretOnly', 'Rose Walls', 'garden', 3],
    ['lonely', 'Night Tram', 'city', 4],
    ['locked', 'Harbour Lights', 'sea', 5],
    ['sea2', 'Reef Days', 'sea', 6],
  ];
  for (const [key, title, genre, seed] of specs) b[key] = await createGenreBook(gw, editor.token, { title, author: `${title} Author`, genre, seed });
  const [r1, r2, r3, r4] = readers as [TestUser, TestUser, TestUser, TestUser];
  // Public co-reading: two readers shelve seed + coRead (k = 2), and the book that will be locked.
  for (const r of [r1, r2]) for (const id of [b.seed!, b.coRead!, b.locked!]) await shelve(r, id);
  // Secret reading: alice and r3 keep secretOnly secret next to a public seed.
  for (const r of [alice, r3]) {
    await shelve(r, b.seed!);
    await shelve(r, b.secretOnly!, true);
  }
  // Below k: one reader only.
  await shelve(r4, b.seed!);
  await shelve(r4, b.lonely!);
  // Only readers in Germany may read `locked` from now on; app users' territory is unknown here.
  await mustQuery(gw, SET_LICENSE, { input: { bookId: b.locked, territories: ['DE'] } }, { token: editor.token });
  await shelve(bob, b.seed!);
  // Wait until the feeds reached recommendations: co-reading of seed → coRead is visible.
  await eventually(async () => (await similar(bob.token, b.seed!)).some((r) => r.book?.id === b.coRead && r.reason.source === 'CO_READING'), { timeoutMs: 60_000, intervalMs: 250 });
}, 240_000);

afterAll(async () => {
  await platform?.stop();
});

describe('recommendations through the gateway', () => {
  it('similar books blend content and co-reading from at least k public readers, with reasons', async () => {
    const list = await similar(bob.token, b.seed!);
    expect(list.find((r) => r.book?.id === b.coRead)?.reason).toMatchObject({ source: 'CO_READING', text: 'Readers of “Salt Road” also read this', basedOn: [{ id: b.seed, title: 'Salt Road' }] });
    expect(list.find((r) => r.book?.id === b.sea2)?.reason).toMatchObject({ source: 'CONTENT', text: 'Similar themes' });
    // One public reader in common is below k: content may list it, co-reading never does.
    expect(list.find((r) => r.book?.id === b.lonely)?.reason.source ?? 'CONTENT').toBe('CONTENT');
    expect(bookIds(list)).not.toContain(b.seed);
  });

  it("another reader's secret shelf entries never feed anyone's similar books or reasons", async () => {
    for (const token of [bob.token, alice.token]) {
      const list = await similar(token, b.seed!);
      expect(list.find((r) => r.book?.id === b.secretOnly)?.reason.source ?? 'CONTENT').toBe('CONTENT');
    }
    const mine = await myRecommendations(platform.gateway, bob.token, { first: 20 });
    for (const { node } of mine.recommendations.edges) {
      expect(node.reason.basedOn?.map((x) => x.id) ?? []).toEqual((node.reason.basedOn ?? []).filter((x) => x.id === b.seed).map((x) => x.id));
      if (node.book?.id === b.secretOnly) expect(node.reason.source).not.toBe('CO_READING');
    }
  });

  it('never recommends a book the reader may not read, on any path', async () => {
    const mine = await myRecommendations(platform.gateway, bob.token, { first: 50 });
    expect(mine.recommendations.edges.map((e) => e.node.book?.id)).not.toContain(b.locked);
    expect(bookIds(await similar(bob.token, b.seed!))).not.toContain(b.locked);
    expect(bookIds(await similar(bob.token, b.coRead!))).not.toContain(b.locked);
  });

  it("for you: from the reader's shelf, naming their book, never one they have; dismiss works at once", async () => {
    const first = await myRecommendations(platform.gateway, bob.token, { first: 10 });
    expect(first.settings.personalisedRecommendations).toBe(true);
    expect(first.recommendations.personalised).toBe(true);
    const ids = first.recommendations.edges.map((e) => e.node.book?.id);
    expect(ids).not.toContain(b.seed);
    const co = first.recommendations.edges.find((e) => e.node.book?.id === b.coRead)?.node;
    expect(co?.reason).toMatchObject({ source: 'CO_READING', text: 'Readers of “Salt Road” also read this' });
    expect(await mustQuery(platform.gateway, DISMISS, { bookId: b.coRead }, { token: bob.token })).toEqual({ dismissRecommendation: true });
    const after = await myRecommendations(platform.gateway, bob.token, { first: 10 });
    expect(after.recommendations.edges.map((e) => e.node.book?.id)).not.toContain(b.coRead);
    // A dismissal is bob's alone.
    const r4 = readers[3]!;
    expect((await similar(r4.token, b.seed!)).map((r) => r.book?.id)).toContain(b.coRead);
  });

  it('a book shelved a moment ago is not recommended on the very next request (before search hears of it)', async () => {
    const reader = await registerUser(platform.gateway);
    const listed = async (): Promise<Array<string | undefined>> => (await myRecommendations(platform.gateway, reader.token, { first: 10 })).recommendations.edges.map((e) => e.node.book?.id);
    const first = await listed();
    expect(first.length).toBeGreaterThan(1);
    for (const bookId of first.slice(0, 2)) {
      await shelve(reader, bookId!);
      expect(await listed()).not.toContain(bookId);
    }
  });

  it('personalisation can be read and switched off: then only popular and recent books', async () => {
    expect(await mustQuery(platform.gateway, SET_PERSONALISED, { enabled: false }, { token: alice.token })).toEqual({ setPersonalisedRecommendations: { personalisedRecommendations: false } });
    const off = await myRecommendations(platform.gateway, alice.token, { first: 10 });
    expect(off.settings.personalisedRecommendations).toBe(false);
    expect(off.recommendations.personalised).toBe(false);
    expect(new Set(off.recommendations.edges.map((e) => e.node.reason.source))).toEqual(new Set(['POPULAR', 'RECENT']));
    for (const { node } of off.recommendations.edges) expect(node.reason.basedOn).toEqual([]);
    expect(off.recommendations.edges.map((e) => e.node.book?.id)).not.toContain(b.seed);
    await mustQuery(platform.gateway, SET_PERSONALISED, { enabled: true }, { token: alice.token });
    expect((await myRecommendations(platform.gateway, alice.token)).recommendations.personalised).toBe(true);
  });

  it("nobody sees another reader's list or settings; signed-out callers cannot dismiss; pages are bounded", async () => {
    const other = await mustQuery<{ user: { recommendations: unknown; settings: unknown } }>(
      platform.gateway,
      `query($id: ID!) { user(id: $id) { id recommendations { edges { node { book { id } } } } settings { personalisedRecommendations } } }`,
      { id: bob.id },
      { token: alice.token },
    );
    expect(other.user).toMatchObject({ recommendations: null, settings: null });
    const anonymous = await graphql(platform.gateway, DISMISS, { bookId: b.seed });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const tooMany = await graphql(platform.gateway, `{ me { recommendations(first: 51) { edges { cursor } } } }`, {}, { token: bob.token });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const page1 = await myRecommendations(platform.gateway, bob.token, { first: 2 });
    if (page1.recommendations.pageInfo.hasNextPage) {
      const page2 = await myRecommendations(platform.gateway, bob.token, { first: 2, after: page1.recommendations.pageInfo.endCursor });
      const seen = new Set(page1.recommendations.edges.map((e) => e.node.book?.id));
      for (const e of page2.recommendations.edges) expect(seen.has(e.node.book?.id)).toBe(false);
    }
  });
});
