/**
 * Catch-up after offline, through the gateway: two devices of one reader. Device B goes offline,
 * both change things (B queues its edits), B comes back: pushes its queue (stale edits lose and are
 * told so), pages `me.changes` from its last cursor, applies it, subscribes from its cursor (the
 * gateway replays what B missed in between, then goes live). Both devices' local state ends equal
 * to the server's, and B saw every change exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { collect, wsConnect, type Received, type WsConnection } from './kit/subscriptions.js';
import { ADD_TO_SHELF, CREATE_NOTE, UPDATE_PROGRESS, chaptersOf, rangeOf, type ChapterView } from './kit/ugc.js';

const CHANGES = /* GraphQL */ `
  query Changes($after: String, $first: Int) {
    me {
      changes(after: $after, first: $first) {
        edges {
          cursor
          node {
            seq kind op id bookId at book { title }
            ... on ShelfEntryChange { entry { id finished secret } }
            ... on ProgressChange { deviceId progress { percent offset } }
            ... on HighlightChange { highlight { id color style quote } }
            ... on NoteChange { note { id text visibility } }
            ... on ReviewChange { review { id rating text } }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;
const SERVER_STATE = /* GraphQL */ `
  query State {
    me {
      id
      shelf(first: 100) { edges { node { finished secret book { id } progress { percent offset } } } }
      highlights(first: 100) { edges { node { id color style quote } } }
      notes(first: 100) { edges { node { id text visibility } } }
      reviews(first: 100) { edges { node { id rating text } } }
    }
  }
`;
const SUBSCRIPTIONS = {
  progress: 'subscription P($after: ID) { readingProgressChanged(after: $after) { seq bookId percent offset deviceId } }',
  annotations: 'subscription A($after: ID) { myAnnotationsChanged(after: $after) { seq kind op id book { title } highlight { id color style quote } note { id text visibility } } }',
  shelf: 'subscription S($after: ID) { shelfChanged(after: $after) { seq op bookId book { title } entry { id finished secret } } }',
};
const UPDATE_HIGHLIGHT = 'mutation($id: ID!, $input: UpdateHighlightInput!) { updateHighlight(id: $id, input: $input) { id color } }';
const UPDATE_NOTE = 'mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id text } }';
const CREATE_HIGHLIGHT = 'mutation($input: HighlightInput!) { createHighlight(input: $input) { id } }';
const WRITE_REVIEW = 'mutation($bookId: ID!, $input: ReviewInput!) { writeReview(bookId: $bookId, input: $input) { id } }';
const TITLE = 'The Lantern Keeper';
const TEXT = 'The keeper climbed the stairs at dusk. He trimmed the wick and polished the glass. Ships passed far out in the dark water.';

type Node = Record<string, any>;

/** A device's local copy of the reader's data, built only from what sync hands it. */
class Device {
  readonly shelf = new Map<string, { finished: boolean; secret: boolean }>();
  readonly progress = new Map<string, { percent: number; offset: number }>();
  readonly highlights = new Map<string, { color: string; style: string; quote: string }>();
  readonly notes = new Map<string, { text: string; visibility: string }>();
  readonly reviews = new Map<string, { rating: number; text: string }>();
  cursor: string | null = null;
  /** Every seq this device applied from subscriptions (to prove none came twice). */
  readonly live: number[] = [];

  constructor(readonly token: string) {}

  /** One node of me.changes: the entity as it is now, or a tombstone. A change whose entity is gone meanwhile waits for its tombstone. */
  applyChange(n: Node): void {
    const gone = n.op === 'DELETED';
    switch (n.kind) {
      case 'SHELF':
        if (gone) this.shelf.delete(n.bookId);
        else if (n.entry) this.shelf.set(n.bookId, { finished: n.entry.finished, secret: n.entry.secret });
        break;
      case 'PROGRESS':
        if (n.progress) this.progress.set(n.bookId, { percent: n.progress.percent, offset: n.progress.offset });
        break;
      case 'HIGHLIGHT':
        if (gone) this.highlights.delete(n.id);
        else if (n.highlight) this.highlights.set(n.id, pick(n.highlight, 'color', 'style', 'quote'));
        break;
      case 'NOTE':
        if (gone) this.notes.delete(n.id);
        else if (n.note) this.notes.set(n.id, pick(n.note, 'text', 'visibility'));
        break;
      case 'REVIEW':
        if (gone) this.reviews.delete(n.id);
        else if (n.review) this.reviews.set(n.id, pick(n.review, 'rating', 'text'));
        break;
    }
  }

  /** Pages me.changes from the cursor until hasNextPage is false (small pages on purpose); returns the nodes. */
  async catchUp(gateway: string, first = 3): Promise<Node[]> {
    const seen: Node[] = [];
    for (;;) {
      const data = await mustQuery(gateway, CHANGES, { after: this.cursor, first }, { token: this.token });
      const { edges, pageInfo } = data.me.changes;
      for (const e of edges) {
        expect(e.cursor).toBe(e.node.seq);
        this.applyChange(e.node);
        seen.push(e.node);
      }
      this.cursor = pageInfo.endCursor;
      if (!pageInfo.hasNextPage) return seen;
    }
  }

  /** A subscription event (readingProgressChanged, myAnnotationsChanged, shelfChanged) applied as it arrives. */
  applyEvent(field: string, e: Node): void {
    this.live.push(Number(e.seq));
    if (field === 'readingProgressChanged') this.progress.set(e.bookId, { percent: e.percent, offset: e.offset });
    if (field === 'shelfChanged') this.applyChange({ kind: 'SHELF', ...e });
    if (field === 'myAnnotationsChanged') this.applyChange(e);
  }

  state() {
    return {
      shelf: sorted(this.shelf),
      progress: sorted(this.progress),
      highlights: sorted(this.highlights),
      notes: sorted(this.notes),
      reviews: sorted(this.reviews),
    };
  }
}

const pick = <T extends Node, K extends string>(o: T, ...keys: K[]) => Object.fromEntries(keys.map((k) => [k, o[k]])) as any;
const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

async function serverState(gateway: string, token: string) {
  const { me } = await mustQuery(gateway, SERVER_STATE, {}, { token });
  const nodes = (c: { edges: Array<{ node: Node }> }) => c.edges.map((e) => e.node);
  const shelf = new Map<string, { finished: boolean; secret: boolean }>();
  const progress = new Map<string, { percent: number; offset: number }>();
  for (const s of nodes(me.shelf)) {
    shelf.set(s.book.id, { finished: s.finished, secret: s.secret });
    if (s.progress) progress.set(s.book.id, { percent: s.progress.percent, offset: s.progress.offset });
  }
  return {
    shelf: sorted(shelf),
    progress: sorted(progress),
    highlights: sorted(new Map(nodes(me.highlights).map((h) => [h.id, pick(h, 'color', 'style', 'quote')]))),
    notes: sorted(new Map(nodes(me.notes).map((n) => [n.id, pick(n, 'text', 'visibility')]))),
    reviews: sorted(new Map(nodes(me.reviews).map((r) => [r.id, pick(r, 'rating', 'text')]))),
  };
}

let platform: TestPlatform;
let reader: TestUser;
let other: TestUser;
let book1: string;
let book2: string;
let chapter: ChapterView;
const sockets: WsConnection[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  const editor = await registerEditor(platform.gateway);
  [reader, other] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
  const epub = (title: string) => buildEpub({ title, authors: ['Folio Tests'], language: 'en', chapters: [{ title: 'One', paragraphs: [TEXT] }] });
  ({ bookId: book1 } = await createPublishedBook(platform.gateway, editor.token, await epub(TITLE), { title: TITLE }));
  ({ bookId: book2 } = await createPublishedBook(platform.gateway, editor.token, await epub('Second Light'), { title: 'Second Light' }));
  [chapter] = await chaptersOf(platform.gateway, reader.token, book1);
}, 120_000);

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await platform?.stop();
});

describe('catch-up after offline, then live', () => {
  it('two devices of one reader converge on the server’s state, with no gap and no duplicate', async () => {
    const gw = platform.gateway;
    const as = (token: string) => ({ token });
    const t0 = Date.now();
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const progress = (percent: number, clientTime: string, deviceId: string) =>
      mustQuery(gw, UPDATE_PROGRESS, { bookId: book1, input: { offset: percent * 2, percent, clientTime, deviceId } }, as(reader.token));

    // Before the split: a shelf, a position, a highlight with a note.
    await mustQuery(gw, ADD_TO_SHELF, { bookId: book1 }, as(reader.token));
    await progress(10, at(-60_000), 'phone');
    const h1 = (await mustQuery(gw, CREATE_HIGHLIGHT, { input: rangeOf(chapter, 'trimmed the wick') }, as(reader.token))).createHighlight.id as string;
    const n1 = (await mustQuery(gw, CREATE_NOTE, { input: { highlightId: h1, text: 'first thought' } }, as(reader.token))).createNote.id as string;

    const a = new Device(reader.token);
    const b = new Device(reader.token);
    await Promise.all([a.catchUp(gw), b.catchUp(gw)]);
    expect(b.state()).toEqual(await serverState(gw, reader.token));
    const offlineAt = b.cursor!;

    // B is offline. A changes things online (device clock: now).
    await progress(30, at(-1_000), 'phone');
    const h2 = (await mustQuery(gw, CREATE_HIGHLIGHT, { input: rangeOf(chapter, 'polished the glass') }, as(reader.token))).createHighlight.id as string;
    await mustQuery(gw, UPDATE_HIGHLIGHT, { id: h2, input: { color: 'GREEN', clientTime: at(-900) } }, as(reader.token));
    await mustQuery(gw, UPDATE_HIGHLIGHT, { id: h1, input: { color: 'BLUE', clientTime: at(-800) } }, as(reader.token));
    await mustQuery(gw, 'mutation($id: ID!) { deleteHighlight(id: $id) }', { id: h2 }, as(reader.token));
    const n2 = (await mustQuery(gw, CREATE_NOTE, { input: { range: rangeOf(chapter, 'Ships passed'), text: 'ships!' } }, as(reader.token))).createNote.id as string;
    await mustQuery(gw, ADD_TO_SHELF, { bookId: book2 }, as(reader.token));
    await mustQuery(gw, WRITE_REVIEW, { bookId: book1, input: { rating: 4, text: 'steady' } }, as(reader.token));
    // Someone else's activity in between is never part of this reader's feed.
    await mustQuery(gw, ADD_TO_SHELF, { bookId: book1 }, as(other.token));

    // B comes back and pushes what it queued offline, with the device times it was made at.
    const staleProgress = await progress(20, at(-30_000), 'tablet');
    expect(staleProgress.updateProgress).toMatchObject({ applied: false, progress: { percent: 30, deviceId: 'phone' } });
    const staleColor = await graphql(gw, UPDATE_HIGHLIGHT, { id: h1, input: { color: 'PINK', clientTime: at(-20_000) } }, as(reader.token));
    expect(errorCodes(staleColor)).toEqual(['CONFLICT']);
    expect(staleColor.errors![0]!.extensions).toMatchObject({ current: { id: h1, clientTime: at(-800) } });
    await mustQuery(gw, UPDATE_NOTE, { id: n1, input: { text: 'second thought, from the tablet', clientTime: at(-500) } }, as(reader.token));
    const h3 = (await mustQuery(gw, CREATE_HIGHLIGHT, { input: rangeOf(chapter, 'climbed the stairs') }, as(reader.token))).createHighlight.id as string;
    await mustQuery(gw, WRITE_REVIEW, { bookId: book1, input: { rating: 5, text: 'better on the tablet' } }, as(reader.token));

    // Catch up from the last cursor it applied.
    const missed = await b.catchUp(gw);
    const seqs = missed.map((n) => Number(n.seq));
    expect(seqs.every((s) => s > Number(offlineAt))).toBe(true);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(missed.map((n) => `${n.kind} ${n.op}`)).toEqual([
      'PROGRESS UPDATED', // 30% from the phone (the tablet's stale 20% made no change)
      'HIGHLIGHT CREATED', 'HIGHLIGHT UPDATED', 'HIGHLIGHT UPDATED', 'HIGHLIGHT DELETED', // h2 ×3 with h1's BLUE in between
      'NOTE CREATED', 'SHELF CREATED', 'REVIEW CREATED',
      'NOTE UPDATED', 'HIGHLIGHT CREATED', 'REVIEW UPDATED', // the tablet's own pushes
    ]);
    expect(missed.find((n) => n.kind === 'HIGHLIGHT' && n.op === 'DELETED')).toMatchObject({ id: h2, bookId: book1, highlight: null });
    expect(missed.every((n) => n.book?.title === TITLE || n.book?.title === 'Second Light')).toBe(true);
    expect(b.highlights.get(h1)?.color).toBe('BLUE');
    expect(b.highlights.has(h2)).toBe(false);

    // A change lands between B's catch-up and its subscribing: the gateway replays it.
    await mustQuery(gw, 'mutation($b: ID!) { updateShelfEntry(bookId: $b, input: { finished: true }) { finished } }', { b: book1 }, as(reader.token));

    const socket = wsConnect(gw, reader.token);
    sockets.push(socket);
    await socket.opened;
    const streams: Array<[string, Received]> = Object.entries(SUBSCRIPTIONS).map(([, query]) => {
      const field = query.includes('readingProgressChanged') ? 'readingProgressChanged' : query.includes('myAnnotationsChanged') ? 'myAnnotationsChanged' : 'shelfChanged';
      return [field, collect(socket.client, query, { after: b.cursor })];
    });
    const applied = new Map<Received, number>();
    const pump = () => {
      for (const [field, received] of streams) {
        for (let i = applied.get(received) ?? 0; i < received.events.length; i++) {
          const event = received.events[i]!;
          expect(event.errors).toBeUndefined();
          b.applyEvent(field, event.data![field]);
        }
        applied.set(received, received.events.length);
        expect(received.error).toBeUndefined();
      }
    };
    const shelfStream = streams.find(([f]) => f === 'shelfChanged')![1];
    await shelfStream.nth(0, 20_000); // the replayed finished: true
    pump();
    expect(b.shelf.get(book1)).toEqual({ finished: true, secret: false });

    // Live again: A keeps changing things.
    await mustQuery(gw, 'mutation($b: ID!) { removeFromShelf(bookId: $b) }', { b: book2 }, as(reader.token));
    await progress(50, at(0), 'phone');
    await mustQuery(gw, 'mutation($id: ID!) { deleteHighlight(id: $id) }', { id: h3 }, as(reader.token));
    await mustQuery(gw, UPDATE_NOTE, { id: n2, input: { text: 'ships, at night', clientTime: at(100) } }, as(reader.token));
    await mustQuery(gw, 'mutation($b: ID!) { deleteReview(bookId: $b) }', { b: book1 }, as(reader.token));

    const expected = { shelf: 2, progress: 1, annotations: 2 };
    await eventually(async () => {
      pump();
      const counts = { shelf: shelfStream.events.length, progress: streams[0]![1].events.length, annotations: streams[1]![1].events.length };
      return counts.shelf >= expected.shelf && counts.progress >= expected.progress && counts.annotations >= expected.annotations;
    }, { timeoutMs: 30_000 });

    // Reviews have no subscription: B picks them up (and proves it missed nothing) with one more page from its cursor.
    const before = new Set(b.live);
    const rest = await b.catchUp(gw, 500);
    const notReview = rest.filter((n) => n.kind !== 'REVIEW').map((n) => Number(n.seq));
    expect(notReview.filter((s) => !before.has(s))).toEqual([]); // every live-capable change came live
    expect(new Set(b.live).size).toBe(b.live.length); // and none came twice
    expect(b.live.every((s) => s > Number(missed.at(-1)!.seq))).toBe(true); // nothing from before the cursor

    // A catches up its own way (it was online all along, but never subscribed).
    await a.catchUp(gw, 500);
    const server = await serverState(gw, reader.token);
    expect(server.highlights.map(([id]) => id)).toEqual([h1]);
    expect(server.reviews).toEqual([]);
    expect(b.state()).toEqual(server);
    expect(a.state()).toEqual(server);
    expect(server.shelf).toEqual([[book1, { finished: true, secret: false }]]);
    expect(server.progress).toEqual([[book1, { percent: 50, offset: 100 }]]);
    expect(Object.fromEntries(server.notes)).toEqual({ [n1]: { text: 'second thought, from the tablet', visibility: 'PRIVATE' }, [n2]: { text: 'ships, at night', visibility: 'PRIVATE' } });
  }, 120_000);

  it('is private, bounded, and says CURSOR_EXPIRED or BAD_USER_INPUT on cursors it cannot serve', async () => {
    const gw = platform.gateway;
    // The other reader's feed holds only their own change, whatever cursor they pass.
    const theirs = await mustQuery(gw, CHANGES, { after: '0', first: 500 }, { token: other.token });
    expect(theirs.me.changes.edges.map((e: Node) => `${e.node.kind} ${e.node.op} ${e.node.bookId}`)).toEqual([`SHELF CREATED ${book1}`]);
    // Asked about someone else through the User entity: null (private to its owner).
    const viaUser = await graphql(gw, 'query($id: ID!) { user(id: $id) { changes { edges { cursor } } } }', { id: reader.id }, { token: other.token });
    expect(viaUser.errors).toBeUndefined();
    expect(viaUser.data?.user).toEqual({ changes: null });
    expect(errorCodes(await graphql(gw, CHANGES, { first: 501 }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await graphql(gw, CHANGES, { after: 'not-a-cursor' }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await graphql(gw, CHANGES, { after: '999999999' }, { token: reader.token }))).toEqual(['CURSOR_EXPIRED']);
    // A subscription from a cursor the store cannot serve ends with that code.
    const socket = wsConnect(gw, reader.token);
    sockets.push(socket);
    await socket.opened;
    const expired = collect(socket.client, SUBSCRIPTIONS.shelf, { after: '999999999' });
    await expired.ended();
    expect(JSON.stringify(expired.error)).toMatch(/CURSOR_EXPIRED/);
  }, 60_000);
});
