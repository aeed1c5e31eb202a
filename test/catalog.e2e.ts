/** The catalog through the gateway: management, pipeline, reading, downloads, visibility. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { FIXTURE_BOOK } from './kit/epubFixtures.js';
import { DownloadSigner } from '../subgraphs/catalog/downloads.js';
import type { Caller } from '../lib/identity.js';
import { callInternal } from '../lib/signing.js';
import { startGateway } from '../gateway/server.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createBook, createPublishedBook, PUBLISH_BOOK, SET_LICENSE, uploadEpub, waitForJob } from './kit/catalog.js';
import { errorCodes, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

const BOOK_VIEW = /* GraphQL */ `
  query Book($id: ID!) {
    book(id: $id) {
      id title authors status chapterCount wordCount
      currentRevision { id number contentHash }
      chapters { id index title wordCount contentHash }
    }
  }
`;

/** Fetches and drains the body, so no socket is left half-read. */
async function status(url: string | URL, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.status;
}

describe('catalog e2e', () => {
  let platform: TestPlatform;
  let gw: string;
  let editor: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    // The test client plays the CDN: it connects from 127.0.0.1 and names its country in x-test-country.
    platform = await startTestPlatform({
      env: { FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1', FOLIO_GATEWAY_TERRITORY_HEADER: 'x-test-country' },
    });
    gw = platform.gateway;
    editor = await registerEditor(gw);
    reader = await registerUser(gw);
  }, 60_000);
  afterAll(async () => platform?.stop());

  it('editor creates, uploads, watches the job to STORED, publishes and licenses; readers see it only then', async () => {
    const bookId = await createBook(gw, editor.token, { title: 'The Lifecycle Book', tags: ['Lifecycle'] });
    expect((await graphql(gw, BOOK_VIEW, { id: bookId }, { token: reader.token })).data?.book).toBeNull();

    const upload = await uploadEpub(gw, editor.token, bookId, await buildEpub(FIXTURE_BOOK));
    expect(upload.errors).toBeUndefined();
    expect(upload.data?.uploadBookContent.status).toBe('QUEUED');
    const { job } = await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id);
    expect(job.status).toBe('STORED');
    expect(job.stages.map((s) => s.stage)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);

    // Editors see the draft; readers still nothing.
    const draft = await mustQuery(gw, BOOK_VIEW, { id: bookId }, { token: editor.token });
    expect(draft.book).toMatchObject({ status: 'DRAFT', currentRevision: { id: job.revision!.id, number: 1 } });
    expect(draft.book.chapters.length).toBe(FIXTURE_BOOK.chapters.length);
    expect((await graphql(gw, BOOK_VIEW, { id: bookId }, { token: reader.token })).data?.book).toBeNull();

    const published = await mustQuery(gw, PUBLISH_BOOK, { id: bookId }, { token: editor.token });
    expect(published.publishBook).toMatchObject({ status: 'PUBLISHED', currentRevision: { id: job.revision!.id } });
    const licensed = await mustQuery(gw, SET_LICENSE, { input: { bookId, territories: [], partnerIds: ['pk_partner1'] } }, { token: editor.token });
    expect(licensed.setBookLicense.license).toMatchObject({ territories: [], partnerIds: ['pk_partner1'], startsAt: null, endsAt: null });

    const seen = await mustQuery(gw, BOOK_VIEW, { id: bookId }, { token: reader.token });
    expect(seen.book).toMatchObject({ id: bookId, title: 'The Lifecycle Book', status: 'PUBLISHED', chapterCount: FIXTURE_BOOK.chapters.length });
    expect(seen.book.chapters.map((c: { title: string }) => c.title)).toEqual(FIXTURE_BOOK.chapters.map((c) => c.title));
    // The license is for editors' eyes only.
    const license = await mustQuery(gw, `query($id: ID!) { book(id: $id) { license { partnerIds } } }`, { id: bookId }, { token: reader.token });
    expect(license.book.license).toBeNull();
  });

  it('readers list books with filters and stable cursors, read a chapter and its paragraphs', async () => {
    const tag = `tag-${Date.now()}`;
    const ids: string[] = [];
    for (const title of ['Charlie', 'alpha', 'Bravo']) ids.push((await createPublishedBook(gw, editor.token, undefined, { title, tags: [tag] })).bookId);
    const LIST = `query($f: BookFilter, $after: String) { books(filter: $f, first: 2, after: $after) { totalCount edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }`;
    const first = await mustQuery(gw, LIST, { f: { tag } }, { token: reader.token });
    expect(first.books.totalCount).toBe(3);
    expect(first.books.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['alpha', 'Bravo']);
    expect(first.books.pageInfo.hasNextPage).toBe(true);
    const second = await mustQuery(gw, LIST, { f: { tag }, after: first.books.pageInfo.endCursor }, { token: reader.token });
    expect(second.books.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['Charlie']);
    expect(second.books.pageInfo.hasNextPage).toBe(false);
    const tooMany = await graphql(gw, `query { books(first: 101) { totalCount } }`, {}, { token: reader.token });
    expect(errorCodes(tooMany)).toContain('BAD_USER_INPUT');

    const toc = await mustQuery(gw, BOOK_VIEW, { id: ids[0] }, { token: reader.token });
    const chapterId = toc.book.chapters[0].id as string;
    const CHAPTER = `query($id: ID!) { chapter(id: $id) { id title text html contentHash paragraphCount
      paragraphs(first: 2) { totalCount edges { node { id index text startOffset endOffset } } pageInfo { hasNextPage endCursor } } } }`;
    const chapter = (await mustQuery(gw, CHAPTER, { id: chapterId }, { token: reader.token })).chapter;
    expect(chapter.text).toContain(FIXTURE_BOOK.chapters[0]!.paragraphs[0]!.slice(0, 30));
    expect(chapter.html).toContain('<p>');
    expect(chapter.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(chapter.contentHash).toBe(toc.book.chapters[0].contentHash);
    for (const { node } of chapter.paragraphs.edges) expect(chapter.text.slice(node.startOffset, node.endOffset)).toBe(node.text);
    const paragraphId = chapter.paragraphs.edges[1].node.id as string;
    const para = await mustQuery(gw, `query($id: ID!) { paragraph(id: $id) { id index text chapter { id } } }`, { id: paragraphId }, { token: reader.token });
    expect(para.paragraph).toMatchObject({ id: paragraphId, index: 1, chapter: { id: chapterId } });
  });

  it('readers cannot call management mutations, see unpublished books, or read outside the license window', async () => {
    const denied = await graphql(gw, `mutation { createBook(input: { title: "Nope" }) { id } }`, {}, { token: reader.token });
    expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    const { bookId } = await createPublishedBook(gw, editor.token);
    expect(errorCodes(await graphql(gw, PUBLISH_BOOK, { id: bookId }, { token: reader.token }))).toEqual(['FORBIDDEN']);

    await mustQuery(gw, `mutation($id: ID!) { unpublishBook(id: $id) { status } }`, { id: bookId }, { token: editor.token });
    const Q = `query($id: ID!) { book(id: $id) { id status } }`;
    expect((await mustQuery(gw, Q, { id: bookId }, { token: reader.token })).book).toBeNull();
    await mustQuery(gw, PUBLISH_BOOK, { id: bookId }, { token: editor.token });
    expect((await mustQuery(gw, `query($id: ID!) { book(id: $id) { id } }`, { id: bookId }, { token: reader.token })).book).toEqual({ id: bookId });

    const future = new Date(Date.now() + 86_400_000).toISOString();
    await mustQuery(gw, SET_LICENSE, { input: { bookId, startsAt: future } }, { token: editor.token });
    expect((await mustQuery(gw, `query($id: ID!) { book(id: $id) { title } }`, { id: bookId }, { token: reader.token })).book).toBeNull();
    await mustQuery(gw, SET_LICENSE, { input: { bookId, territories: ['FR'] } }, { token: editor.token });
    expect((await mustQuery(gw, `query($id: ID!) { book(id: $id) { authors } }`, { id: bookId }, { token: reader.token })).book).toBeNull();
  });

  it('downloads the EPUB by signed URL with Range and ETag; refuses tampered and expired links', async () => {
    const epub = await buildEpub({ ...FIXTURE_BOOK, title: 'Downloadable' });
    const { bookId, revisionId } = await createPublishedBook(gw, editor.token, epub);
    const anonymous = await graphql(gw, `query($id: ID!) { book(id: $id) { download { url } } }`, { id: bookId });
    expect(anonymous.data?.book.download).toBeNull();
    const { book } = await mustQuery(gw, `query($id: ID!) { book(id: $id) { download { url expiresAt sizeBytes sha256 } } }`, { id: bookId }, { token: reader.token });
    const sha = createHash('sha256').update(epub).digest('hex');
    expect(book.download).toMatchObject({ sizeBytes: epub.length, sha256: sha });
    expect(new Date(book.download.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const whole = await fetch(book.download.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${sha}"`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(epub)).toBe(true);

    const part = await fetch(book.download.url, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${epub.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(epub.subarray(100, 1100))).toBe(true);
    const tail = await fetch(book.download.url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(epub.subarray(epub.length - 10))).toBe(true);
    expect(await status(book.download.url, { range: `bytes=${epub.length}-` })).toBe(416);
    expect(await status(book.download.url, { 'if-none-match': `"${sha}"` })).toBe(304);

    const tampered = new URL(book.download.url);
    tampered.searchParams.set('exp', String(Number(tampered.searchParams.get('exp')) + 60_000));
    expect(await status(tampered)).toBe(403);
    const otherSubject = new URL(book.download.url);
    otherSubject.searchParams.set('sub', 'u:someone-else');
    expect(await status(otherSubject)).toBe(403);

    const signer = new DownloadSigner(platform.config.internalSecret, () => new URL(book.download.url).origin);
    const expired = signer.sign(revisionId, `u:${reader.id}`, Date.now() - 60 * 60_000);
    expect(await status(expired.url)).toBe(410);
    // A fresh link stops working when the book is unpublished.
    await mustQuery(gw, `mutation($id: ID!) { unpublishBook(id: $id) { status } }`, { id: bookId }, { token: editor.token });
    expect(await status(book.download.url)).toBe(403);
  });

  it('batches a shelf of 100 books into one catalog store read', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(await createBook(gw, editor.token, { title: `Shelf ${i}` }));
    const catalogUrl = platform.services.catalog!.url;
    const metricsUrl = catalogUrl.replace(/\/graphql$/, '/metrics');
    const reads = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(metricsUrl)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/folio_db_operations_total\{collection="(\w+)",method="(\w+)"[^}]*\} (\d+)/g)) out[`${m[1]}.${m[2]}`] = Number(m[3]);
      return out;
    };
    const staff: Caller = { userId: editor.id, roles: ['READER', 'EDITOR'], sessionId: null, partnerId: null, scopes: [], clientAddress: 'test', territory: null };
    const before = await reads();
    // What the gateway sends when another subgraph (a bookshelf) returns 100 Book references.
    const body = await mustQuery<{ _entities: Array<{ id: string }> }>(
      catalogUrl,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Book { id title status chapterCount chapters { id } } } }`,
      { r: ids.map((id) => ({ __typename: 'Book', id })) },
      { signAs: { secret: platform.config.internalSecret, audience: 'catalog', caller: staff } },
    );
    expect(body._entities.map((b) => b.id)).toEqual(ids);
    const after = await reads();
    expect((after['books.find'] ?? 0) - (before['books.find'] ?? 0)).toBe(1);
    // No other read of the books either: the batch is the only one.
    const bookReads = (r: Record<string, number>) => Object.entries(r).filter(([k]) => k.startsWith('books.')).reduce((n, [, v]) => n + v, 0);
    expect(bookReads(after) - bookReads(before)).toBe(1);
  });

  it('opens a territory-licensed book only to callers a trusted proxy places there', async () => {
    const { bookId } = await createPublishedBook(gw, editor.token, undefined, { title: 'Only in Germany' });
    await mustQuery(gw, SET_LICENSE, { input: { bookId, territories: ['DE'] } }, { token: editor.token });
    const Q = `query($id: ID!) { book(id: $id) { id title download { url } } }`;
    const from = (country?: string): { token: string; headers: Record<string, string> } => ({
      token: reader.token,
      headers: country ? { 'x-test-country': country } : {},
    });

    // Same query text each time: the response cache must not hand Germany's answer to France.
    const inGermany = await mustQuery(gw, Q, { id: bookId }, from('de'));
    expect(inGermany.book).toMatchObject({ id: bookId, title: 'Only in Germany' });
    expect(await status(inGermany.book.download.url)).toBe(200);
    expect((await mustQuery(gw, Q, { id: bookId }, from('FR'))).book).toBeNull();
    expect((await mustQuery(gw, Q, { id: bookId }, from())).book).toBeNull();
    expect((await mustQuery(gw, Q, { id: bookId }, from('Germany'))).book).toBeNull();
    const anonymousInGermany = await graphql(gw, `query($id: ID!) { book(id: $id) { id } }`, { id: bookId }, { headers: { 'x-test-country': 'DE' } });
    expect(anonymousInGermany.data?.book).toEqual({ id: bookId });
    // Answers depend on the territory header, so HTTP caches in front of the gateway must vary on it.
    expect(anonymousInGermany.headers.get('vary')).toMatch(/x-test-country/i);

    // Search and ugc ask catalog with the caller's territory.
    const catalogBase = platform.services.catalog!.url.replace(/\/graphql$/, '');
    const readable = (territory: string | null) =>
      callInternal<{ readable: string[] }>({ secret: platform.config.internalSecret, audience: 'catalog', baseUrl: catalogBase }, 'POST', '/internal/books/readable', {
        bookIds: [bookId],
        partnerId: null,
        userId: reader.id,
        roles: ['READER'],
        territory,
      });
    expect((await readable('DE')).readable).toEqual([bookId]);
    expect((await readable('FR')).readable).toEqual([]);
    expect((await readable(null)).readable).toEqual([]);

    // A gateway that trusts no proxy ignores the header: a client cannot choose its territory.
    const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, service]) => [name, service!.url]));
    const config = platform.config;
    const untrusting = await startGateway({ ...config, gatewayPort: 0, gateway: { ...config.gateway, trustedProxies: [] } }, { subgraphUrls });
    try {
      expect((await mustQuery(untrusting.url, Q, { id: bookId }, from('DE'))).book).toBeNull();
    } finally {
      await untrusting.stop();
    }
  });
});
