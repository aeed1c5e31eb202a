import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../lib/config.js';
import type { Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { nodesOf } from '../../lib/pagination.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { seedDemoLibrary } from './bulk.js';
import { buildEpub } from './epub/build.js';
import { FIXTURE_BOOK, hostileFixture } from '../../test/kit/epubFixtures.js';
import { openCatalog, type CatalogRuntime } from './index.js';
import { createLoaders } from './loaders.js';
import { visibleRevisionId } from './policy.js';
import { decodeEpubBase64, readerOf } from './service.js';

const caller = (over: Partial<Caller>): Caller => ({ userId: null, roles: [], sessionId: null, partnerId: null, scopes: [], clientAddress: 'test', territory: null, ...over });
const editor = caller({ userId: 'editor-1', roles: ['READER', 'EDITOR'] });
const reader = caller({ userId: 'reader-1', roles: ['READER'] });
const partner = caller({ partnerId: 'key-1' });

describe('catalog service', () => {
  let dir: string;
  let storage: Storage;
  let catalog: CatalogRuntime;
  const reads: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'folio-catalog-'));
    const config = testConfig({ FOLIO_DATA_DIR: dir });
    storage = await openStorage({ dataDir: dir });
    catalog = await openCatalog({ config, storage, logger: createLogger('test', 'silent'), onStoreOperation: (op) => reads.push(`${op.collection}.${op.method}`) });
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function storedBook(): Promise<{ bookId: string; revisionId: string }> {
    const book = await catalog.service.createBook(editor, { title: 'Fixture', authors: ['A. Writer'], language: 'en' });
    const job = await catalog.service.uploadContent(editor, book._id, (await buildEpub(FIXTURE_BOOK)).toString('base64'));
    const done = await catalog.pipeline.runJob(job._id);
    expect(done.status).toBe('STORED');
    expect(done.stages.map((s) => s.stage)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    return { bookId: book._id, revisionId: done.revisionId };
  }

  it('publishes a stored revision with an outbox event, visible to readers only then', async () => {
    const { bookId, revisionId } = await storedBook();
    const before = await catalog.service.booksByIds([bookId]);
    expect(visibleRevisionId(before.get(bookId)!, readerOf(reader))).toBeNull();
    expect(await catalog.service.readable([bookId], readerOf(reader))).toEqual([]);

    await catalog.service.publish(editor, bookId);
    expect(await catalog.service.readable([bookId], readerOf(reader))).toEqual([bookId]);
    const events = await catalog.outbox.read(0, 500);
    expect(events.filter((e) => e.payload.bookId === bookId).map((e) => [e.type, e.payload])).toEqual([['BookPublished', { bookId, revisionId }]]);

    // Partners need a license naming them; a window in the past closes the book to everyone.
    expect(await catalog.service.readable([bookId], readerOf(partner))).toEqual([]);
    await catalog.service.setLicense(editor, { bookId, partnerIds: ['key-1'] });
    expect(await catalog.service.readable([bookId], readerOf(partner))).toEqual([bookId]);
    await catalog.service.setLicense(editor, { bookId, endsAt: new Date(Date.now() - 1000), startsAt: new Date(Date.now() - 5000) });
    expect(await catalog.service.readable([bookId], readerOf(reader))).toEqual([]);
    const listed = await catalog.service.listBooks(readerOf(reader), {}, {});
    expect(nodesOf(listed).map((b) => b._id)).not.toContain(bookId);
  });

  it('refuses management to readers', async () => {
    await expect(catalog.service.createBook(reader, { title: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('answers the internal access check by the same policy: published chapters yes, draft revisions and unknown ids no', async () => {
    const { bookId, revisionId } = await storedBook();
    await catalog.service.publish(editor, bookId);
    const job = await catalog.service.uploadContent(editor, bookId, (await buildEpub({ ...FIXTURE_BOOK, title: 'Second edition' })).toString('base64'));
    const draftRevisionId = (await catalog.pipeline.runJob(job._id)).revisionId;
    const ask = { bookIds: [bookId, 'f'.repeat(24)], chapterIds: [`${revisionId}.c0`, `${draftRevisionId}.c0`, 'nope'], paragraphIds: [`${revisionId}.c0.p0`, `${draftRevisionId}.c0.p0`, `${revisionId}.c0.p99999`] };
    const asReader = await catalog.service.access(readerOf(reader), ask);
    const chapter = (await catalog.service.chaptersByIds([`${revisionId}.c0`])).get(`${revisionId}.c0`)!;
    expect(asReader.books).toEqual([bookId]);
    expect(asReader.chapters).toEqual([{ id: `${revisionId}.c0`, bookId, revisionId, current: true, length: chapter.text.length }]);
    expect(asReader.paragraphs.map((p) => [p.id, p.chapterId, p.length])).toEqual([[`${revisionId}.c0.p0`, `${revisionId}.c0`, chapter.paragraphs[0]!.endOffset - chapter.paragraphs[0]!.startOffset]]);
    // Staff read the draft too, as `chapter(id)` lets them; it is not the current revision.
    const asEditor = await catalog.service.access(readerOf(editor), ask);
    expect(asEditor.chapters.map((c) => [c.id, c.current])).toEqual([[`${revisionId}.c0`, true], [`${draftRevisionId}.c0`, false]]);
    // Unpublishing closes every chapter to readers at once.
    await catalog.service.unpublish(editor, bookId);
    expect(await catalog.service.access(readerOf(reader), ask)).toEqual({ books: [], chapters: [], paragraphs: [] });
  });

  it('replacing content emits BookContentReplaced; a hostile upload fails its job and leaves the published revision alone', async () => {
    const { bookId, revisionId } = await storedBook();
    await catalog.service.publish(editor, bookId);
    const bomb = await catalog.service.uploadContent(editor, bookId, hostileFixture('zip-bomb').build().toString('base64'));
    const failed = await catalog.pipeline.runJob(bomb._id);
    expect(failed).toMatchObject({ status: 'FAILED', failureCode: 'ZIP_BOMB' });
    const book = (await catalog.service.booksByIds([bookId])).get(bookId)!;
    expect(book.publishedRevisionId).toBe(revisionId);
    expect(book.latestRevisionId).toBe(revisionId);

    const second = await catalog.service.uploadContent(editor, bookId, (await buildEpub({ ...FIXTURE_BOOK, title: 'Second' })).toString('base64'));
    const stored = await catalog.pipeline.runJob(second._id);
    await catalog.service.publish(editor, bookId);
    const events = (await catalog.outbox.read(0, 500)).filter((e) => e.payload.bookId === bookId);
    expect(events.at(-1)).toMatchObject({ type: 'BookContentReplaced', payload: { bookId, previousRevisionId: revisionId, revisionId: stored.revisionId } });
  });

  it('refuses a non-zip upload synchronously', async () => {
    const book = await catalog.service.createBook(editor, { title: 'Nope' });
    await expect(catalog.service.uploadContent(editor, book._id, Buffer.from('%PDF-1.7').toString('base64'))).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { reason: 'NOT_A_ZIP' },
    });
  });

  it('runs a job once when the background worker and a direct runJob race for it', async () => {
    catalog.pipeline.start();
    try {
      const book = await catalog.service.createBook(editor, { title: 'Raced', authors: ['A. Writer'], language: 'en' });
      const job = await catalog.service.uploadContent(editor, book._id, (await buildEpub(FIXTURE_BOOK)).toString('base64'));
      const done = await catalog.pipeline.runJob(job._id);
      expect(done.status).toBe('STORED');
      expect(done.stages.filter((s) => s.stage === 'STORED')).toHaveLength(1);
    } finally {
      await catalog.pipeline.stop();
    }
  });

  it('loads the demo library once, published and readable', async () => {
    const logger = createLogger('test', 'silent');
    expect(await seedDemoLibrary({ ...catalog, logger })).toBe(6);
    expect(await seedDemoLibrary({ ...catalog, logger })).toBe(0);
    const zh = await catalog.service.listBooks(readerOf(reader), { language: 'zh' }, {});
    expect(zh.totalCount).toBe(2);
    const found = await catalog.service.listBooks(readerOf(reader), { query: 'gannet' }, {});
    expect(nodesOf(found).map((b) => b.title)).toEqual(['The Keeper of Gannet Rock']);
    // Without the count (the query doesn't select totalCount), the same page, pages on by cursor.
    const counted = await catalog.service.listBooks(readerOf(reader), {}, { first: 4 });
    const uncounted = await catalog.service.listBooks(readerOf(reader), {}, { first: 4 }, { count: false });
    expect(counted.totalCount).toBeGreaterThanOrEqual(6); // the demo books and any published earlier in this file
    expect(uncounted.totalCount).toBe(-1);
    expect(nodesOf(uncounted).map((b) => b._id)).toEqual(nodesOf(counted).map((b) => b._id));
    const next = await catalog.service.listBooks(readerOf(reader), {}, { first: 4, after: uncounted.pageInfo.endCursor }, { count: false });
    const titles = [...nodesOf(uncounted), ...nodesOf(next)].map((b) => b.title.toLowerCase());
    expect(titles).toHaveLength(Math.min(8, counted.totalCount));
    expect(titles).toEqual([...titles].sort());
  });

  it('refuses an upload over 16 MiB before decoding it', () => {
    const absurd = hostileFixture('absurdly-large').build().toString('base64');
    expect(() => decodeEpubBase64(absurd)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { reason: 'TOO_LARGE' } }));
    expect(() => decodeEpubBase64('not base64!')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('decodes only canonical base64 (line-wrapped accepted) and refuses the rest with the same error', async () => {
    const epub = await buildEpub(FIXTURE_BOOK);
    const text = epub.toString('base64');
    expect(decodeEpubBase64(text).equals(epub)).toBe(true);
    expect(decodeEpubBase64(text.replace(/.{76}/g, '$&\r\n')).equals(epub)).toBe(true);
    const refused = expect.objectContaining({ code: 'BAD_USER_INPUT', details: expect.objectContaining({ field: 'epubBase64' }) });
    const invalid = [
      '',
      `${text.slice(0, 100)}!${text.slice(101)}`, // a character outside the alphabet, length kept
      `${text.slice(0, 100)}-${text.slice(101)}`, // base64url, which Node's decoder would read
      `${text.slice(0, 100)}=${text.slice(101)}`, // padding mid-way
      text.slice(0, -1), // length not a multiple of 4
      `${text}AB==`, // padding bits set (not what any encoder writes)
      `${text.slice(0, 100)}\u00e9${text.slice(101)}`,
    ];
    for (const value of invalid) expect(() => decodeEpubBase64(value), JSON.stringify(value.slice(95, 106))).toThrow(refused);
  });

  it('resolves 100 books with one batched store read', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await catalog.service.createBook(editor, { title: `Shelf ${i}` }))._id);
    const loaders = createLoaders(catalog.service);
    reads.length = 0;
    const books = await Promise.all(ids.map((id) => loaders.book.load(id)));
    expect(books.every((b) => b !== null)).toBe(true);
    expect(reads).toEqual(['books.find']);
  });

  it('answers books primed from a page without reading them again, primed before or after the loader is first used', async () => {
    const [a, b, c] = [await catalog.service.createBook(editor, { title: 'Primed A' }), await catalog.service.createBook(editor, { title: 'Primed B' }), await catalog.service.createBook(editor, { title: 'Primed C' })];
    const loaders = createLoaders(catalog.service);
    loaders.primeBooks([a!]);
    reads.length = 0;
    expect((await loaders.book.load(a!._id))?.title).toBe('Primed A');
    expect(reads).toEqual([]);
    loaders.primeBooks([b!]);
    expect((await loaders.book.load(b!._id))?.title).toBe('Primed B');
    expect(reads).toEqual([]);
    expect((await loaders.book.load(c!._id))?.title).toBe('Primed C');
    expect(reads).toEqual(['books.find']);
  });

  it('dates its writes and judges licence windows by the injected clock', async () => {
    let now = new Date('2031-06-01T00:00:00Z');
    const clocked = await openCatalog({ config: testConfig({ FOLIO_DATA_DIR: dir }), storage, logger: createLogger('test', 'silent'), now: () => now });
    expect((await clocked.service.createBook(editor, { title: 'Clocked' })).createdAt).toEqual(now);
    const { bookId } = await storedBook();
    await catalog.service.publish(editor, bookId);
    await clocked.service.setLicense(editor, { bookId, startsAt: new Date('2032-01-01T00:00:00Z') });
    const listed = async () => nodesOf(await clocked.service.listBooks(readerOf(reader), {}, { first: 100 })).map((b) => b._id);
    expect(await listed()).not.toContain(bookId);
    now = new Date('2032-02-01T00:00:00Z');
    expect(await listed()).toContain(bookId);
  });
});
