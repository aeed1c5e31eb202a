/**
 * Issue 9 §2, from the attacker's side: a reader or an anonymous caller warms the gateway's response
 * cache with a book's chapter text, its metadata, a book list and passages quoted by ugc; an editor
 * then withdraws the book (unpublish), closes its licence or replaces its content. The very next
 * request must miss the cache and the withdrawn content must be gone — through the gateway that ran
 * the mutation at once, through another gateway within a second (catalog's event feed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { FIXTURE_BOOK } from '../kit/epubFixtures.js';
import { registerEditor, registerUser, type TestUser } from '../kit/accounts.js';
import { createPublishedBook, SET_LICENSE } from '../kit/catalog.js';
import { graphql, mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';
import { CREATE_HIGHLIGHT, replaceBookContent } from '../kit/ugc.js';

const CHAPTER = /* GraphQL */ `query Chapter($id: ID!) { chapter(id: $id) { id text book { id title } } }`;
const BOOK = /* GraphQL */ `query Book($id: ID!) { book(id: $id) { id title chapters { id title } popularHighlights { quote } } }`;
const LIST = /* GraphQL */ `query List { books(first: 100) { edges { node { id title } } } }`;
const UNPUBLISH = /* GraphQL */ `mutation Unpublish($id: ID!) { unpublishBook(id: $id) { id status } }`;

interface Seen {
  readonly cache: string | null;
  readonly cacheControl: string | null;
  readonly data: Record<string, any> | null | undefined;
}

async function ask(gateway: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Seen> {
  const response = await graphql(gateway, query, variables, token ? { token } : {});
  expect(response.errors).toBeUndefined();
  return { cache: response.headers.get('x-cache'), cacheControl: response.headers.get('cache-control'), data: response.data };
}

/** Asks twice: the second answer must come from the cache (the attacker's starting position). */
async function warm(gateway: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Seen> {
  await ask(gateway, query, variables, token);
  const second = await ask(gateway, query, variables, token);
  expect(second.cache).toBe('HIT');
  return second;
}

const listed = (seen: Seen, bookId: string): boolean => (seen.data?.books.edges as Array<{ node: { id: string } }>).some((e) => e.node.id === bookId);

describe('security: withdrawn content is never served from the response cache', () => {
  let platform: TestPlatform;
  let gw: string;
  let editor: TestUser;
  let readers: TestUser[];

  beforeAll(async () => {
    platform = await startTestPlatform();
    gw = platform.gateway;
    editor = await registerEditor(gw);
    readers = [await registerUser(gw), await registerUser(gw), await registerUser(gw)];
  }, 60_000);
  afterAll(async () => platform?.stop());

  /** A published book with a passage three readers highlighted (so ugc quotes it publicly). */
  async function publishedBook(title: string): Promise<{ bookId: string; chapterId: string; quote: string }> {
    const { bookId } = await createPublishedBook(gw, editor.token, undefined, { title });
    const { book } = await mustQuery<{ book: { chapters: Array<{ id: string; text: string }> } }>(gw, `query($id: ID!) { book(id: $id) { chapters { id text } } }`, { id: bookId }, { token: readers[0]!.token });
    const chapter = book.chapters[0]!;
    const quote = FIXTURE_BOOK.chapters[0]!.paragraphs[0]!;
    const start = chapter.text.indexOf(quote);
    for (const reader of readers) await mustQuery(gw, CREATE_HIGHLIGHT, { input: { chapterId: chapter.id, start, end: start + quote.length } }, { token: reader.token });
    return { bookId, chapterId: chapter.id, quote };
  }

  it('unpublishBook: the next chapter, book and list requests miss and the content is gone (anonymous and reader)', async () => {
    const { bookId, chapterId, quote } = await publishedBook('Withdrawn At Once');
    for (const token of [undefined, readers[0]!.token]) {
      expect((await warm(gw, CHAPTER, { id: chapterId }, token)).data?.chapter.text).toContain(quote);
      const book = await warm(gw, BOOK, { id: bookId }, token);
      expect(book.data?.book.popularHighlights.map((h: { quote: string }) => h.quote)).toContain(quote);
      expect(listed(await warm(gw, LIST, {}, token), bookId)).toBe(true);
    }

    await mustQuery(gw, UNPUBLISH, { id: bookId }, { token: editor.token });

    for (const token of [undefined, readers[0]!.token]) {
      const chapter = await ask(gw, CHAPTER, { id: chapterId }, token);
      expect(chapter.cache).toBeNull();
      expect(chapter.data?.chapter).toBeNull();
      const book = await ask(gw, BOOK, { id: bookId }, token);
      expect(book.cache).toBeNull();
      expect(book.data?.book).toBeNull();
      const list = await ask(gw, LIST, {}, token);
      expect(list.cache).toBeNull();
      expect(listed(list, bookId)).toBe(false);
    }
  });

  it('setBookLicense closing the window: the next request misses and the chapter is gone', async () => {
    const { bookId, chapterId } = await publishedBook('Licence Closed');
    await warm(gw, CHAPTER, { id: chapterId });
    await warm(gw, CHAPTER, { id: chapterId }, readers[1]!.token);
    const later = new Date(Date.now() + 86_400_000).toISOString();
    await mustQuery(gw, SET_LICENSE, { input: { bookId, startsAt: later } }, { token: editor.token });
    for (const token of [undefined, readers[1]!.token]) {
      const chapter = await ask(gw, CHAPTER, { id: chapterId }, token);
      expect(chapter.cache).toBeNull();
      expect(chapter.data?.chapter).toBeNull();
    }
  });

  it('a licence that ends soon caps how long its chapters are cached', async () => {
    const { bookId, chapterId } = await publishedBook('Licence Ending');
    const endsAt = new Date(Date.now() + 30_000).toISOString();
    await mustQuery(gw, SET_LICENSE, { input: { bookId, endsAt } }, { token: editor.token });
    const seen = await ask(gw, CHAPTER, { id: chapterId });
    const maxAge = Number(/max-age=(\d+)/.exec(seen.cacheControl ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(30);
  });

  it('content replaced: the cached table of contents and the old chapter are purged', async () => {
    const { bookId, chapterId } = await publishedBook('Replaced Content');
    const before = await warm(gw, BOOK, { id: bookId });
    await warm(gw, CHAPTER, { id: chapterId });
    await replaceBookContent(gw, editor.token, bookId, {
      ...FIXTURE_BOOK,
      chapters: [{ title: 'A New Beginning', paragraphs: ['Everything here was rewritten.'] }],
    });
    // Whether an earlier published revision stays readable is catalog's rule; the cache must ask it again.
    expect((await ask(gw, CHAPTER, { id: chapterId })).cache).toBeNull();
    const after = await ask(gw, BOOK, { id: bookId });
    expect(after.cache).toBeNull();
    expect(after.data?.book.chapters.map((c: { title: string }) => c.title)).toEqual(['A New Beginning']);
    expect(after.data?.book.chapters[0].id).not.toBe(before.data?.book.chapters[0].id);
  });

  it('a mutation through another gateway reaches this one within a second (catalog event feed, no Redis)', async () => {
    const { bookId, chapterId } = await publishedBook('Withdrawn Elsewhere');
    const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s!.url]));
    const other: RunningGateway = await startGateway(platform.config, { subgraphUrls });
    try {
      await warm(gw, CHAPTER, { id: chapterId });
      await mustQuery(other.url, UNPUBLISH, { id: bookId }, { token: editor.token });
      const done = Date.now();
      let chapter: Seen;
      do chapter = await ask(gw, CHAPTER, { id: chapterId });
      while (chapter.cache === 'HIT' && Date.now() - done < 1_000);
      expect(chapter.cache).toBeNull();
      expect(chapter.data?.chapter).toBeNull();
    } finally {
      await other.stop();
    }
  });

  it('search hits quoting a book are never cached', async () => {
    const { quote } = await publishedBook('Searched Passages');
    const query = `query($q: String!) { search(query: $q, mode: KEYWORD) { paragraphs { edges { node { snippet book { id } } } } } }`;
    await ask(gw, query, { q: quote });
    expect((await ask(gw, query, { q: quote })).cache).toBeNull();
  });
});
