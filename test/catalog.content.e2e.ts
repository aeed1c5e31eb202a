/** Real-world EPUBs through the gateway: warnings an editor must see, covers, chapters of a whole novel. */
import { deflateSync, crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { FIXTURE_BOOK, hostileFixture } from './kit/epubFixtures.js';
import { generateSyntheticBook } from '../subgraphs/catalog/demo/index.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createBook, PUBLISH_BOOK, SET_LICENSE, uploadEpub, waitForJob } from './kit/catalog.js';
import { mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

/** A real PNG of `width` × `height` pixels (one grey row repeated), small to store. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter byte
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

const BOOK = /* GraphQL */ `
  query Book($id: ID!) { book(id: $id) { id coverUrl cover { url mediaType width height } chapters { id title } } }
`;
const CHAPTER = /* GraphQL */ `
  query Chapter($id: ID!) { chapter(id: $id) { id text paragraphs(first: 1) { totalCount edges { node { text } } } } }
`;

describe('catalog content e2e', () => {
  let platform: TestPlatform;
  let gw: string;
  let editor: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    platform = await startTestPlatform();
    gw = platform.gateway;
    editor = await registerEditor(gw);
    reader = await registerUser(gw);
  }, 60_000);
  afterAll(async () => platform?.stop());

  async function publish(bookId: string): Promise<void> {
    await mustQuery(gw, PUBLISH_BOOK, { id: bookId }, { token: editor.token });
    await mustQuery(gw, SET_LICENSE, { input: { bookId, territories: [], partnerIds: [] } }, { token: editor.token });
  }

  it('tells the editor which chapters were skipped, and stores the rest', async () => {
    const bookId = await createBook(gw, editor.token, { title: 'Half a Book' });
    const upload = await uploadEpub(gw, editor.token, bookId, hostileFixture('spine-zip-chapter').build());
    const { job } = await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id);
    expect(job.status).toBe('STORED');
    expect(job.revision?.chapterCount).toBe(1);
    expect(job.warnings).toEqual([{ code: 'SPINE_NOT_A_DOCUMENT', message: expect.stringContaining('chapter-002.xhtml') }]);

    const whole = await uploadEpub(gw, editor.token, bookId, await buildEpub(FIXTURE_BOOK));
    expect((await waitForJob(gw, editor.token, whole.data!.uploadBookContent.id)).job.warnings).toEqual([]);
  });

  it('serves the EPUB cover at a signed link with its size, only while the book is published', async () => {
    const image = png(60, 90);
    const bookId = await createBook(gw, editor.token, { title: 'Covered' });
    const upload = await uploadEpub(gw, editor.token, bookId, await buildEpub({ ...FIXTURE_BOOK, cover: { mediaType: 'image/png', bytes: image } }));
    expect((await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id)).job.status).toBe('STORED');
    await publish(bookId);

    const { book } = await mustQuery<{ book: { coverUrl: string; cover: { url: string; mediaType: string; width: number; height: number } } }>(gw, BOOK, { id: bookId }, { token: reader.token });
    expect(book.cover).toMatchObject({ mediaType: 'image/png', width: 60, height: 90 });
    expect(book.coverUrl).toBe(book.cover.url);
    const served = await fetch(book.cover.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);

    // A forged or re-targeted link is refused.
    const forged = new URL(book.cover.url);
    forged.searchParams.set('exp', String(Number(forged.searchParams.get('exp')) + 3_600_000));
    expect((await fetch(forged)).status).toBe(403);

    await mustQuery(gw, /* GraphQL */ `mutation U($id: ID!) { unpublishBook(id: $id) { id } }`, { id: bookId }, { token: editor.token });
    const gone = await fetch(book.cover.url);
    await gone.arrayBuffer();
    expect(gone.status).toBe(404);
  });

  it('stores and serves a single-chapter novel of over 2 million characters whole', async () => {
    const novel = generateSyntheticBook({ chapters: 1, paragraphsPerChapter: 6_000, seed: 11, language: 'en' });
    const bookId = await createBook(gw, editor.token, { title: 'One Long Chapter' });
    const upload = await uploadEpub(gw, editor.token, bookId, await buildEpub(novel));
    const { job } = await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id);
    expect(job.status).toBe('STORED');
    await publish(bookId);
    const { book } = await mustQuery<{ book: { chapters: Array<{ id: string }> } }>(gw, BOOK, { id: bookId }, { token: reader.token });
    const { chapter } = await mustQuery<{ chapter: { text: string; paragraphs: { totalCount: number; edges: Array<{ node: { text: string } }> } } }>(
      gw, CHAPTER, { id: book.chapters[0]!.id }, { token: reader.token },
    );
    // Over two parts of 1 Mi characters, joined back exactly: paragraph offsets still match the text.
    expect(chapter.text.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(chapter.paragraphs.totalCount).toBe(6_001); // the heading, then the paragraphs
    expect(chapter.text.startsWith(chapter.paragraphs.edges[0]!.node.text)).toBe(true);
    expect(chapter.text.endsWith(novel.chapters[0]!.paragraphs.at(-1)!)).toBe(true);
  }, 120_000);
});
