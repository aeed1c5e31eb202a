import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryObjectStore } from '../../../lib/objectStore.js';
import { LocalHashEmbedder } from './embedder.js';
import { PrivateIndexService } from './privateIndex.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'folio-private-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const embedder = new LocalHashEmbedder();

describe('PrivateIndexService', () => {
  it("never returns one user's items to another user", async () => {
    const service = new PrivateIndexService({ store: new DirectoryObjectStore(dir), embedder, maxCacheBytes: 64 << 20 });
    await service.upsert('userA', [{ id: 'a1', kind: 'note', text: 'the whale is a symbol of obsession', bookId: 'moby' }]);
    await service.upsert('userB', [{ id: 'b1', kind: 'note', text: 'tea and gardens in the countryside', bookId: 'other' }]);
    const forA = await service.search('userA', 'whale obsession');
    expect(forA.map((h) => h.id)).toEqual(['a1']);
    const forB = await service.search('userB', 'whale obsession');
    expect(forB.map((h) => h.id)).not.toContain('a1');
    expect(await service.search('userC', 'whale')).toEqual([]);
    await expect(service.search('../userA', 'whale')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.search('userA', 'whale', { limit: 10_000 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // A full page of 100 plus the look-ahead hit that tells the caller a next page exists.
    expect((await service.search('userA', 'whale', { limit: 101 })).map((h) => h.id)).toEqual(['a1']);
    await expect(service.search('userA', 'whale', { limit: 102 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('persists to the object store, reloads cold, filters, updates and removes', async () => {
    const store = new DirectoryObjectStore(dir);
    const first = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    await first.upsert('reader1', [
      { id: 'n1', kind: 'note', text: '黑暗森林法则让人不安', bookId: 'santi', payload: { chapterId: 'c3' } },
      { id: 'h1', kind: 'highlight', text: 'Call me Ishmael.', bookId: 'moby' },
    ]);
    const cold = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    const hits = await cold.search('reader1', '黑暗森林');
    expect(hits[0]).toMatchObject({ id: 'n1', payload: { kind: 'note', bookId: 'santi', chapterId: 'c3', text: '黑暗森林法则让人不安' } });
    expect((await cold.search('reader1', 'Ishmael', { bookId: 'santi' })).map((h) => h.id)).not.toContain('h1');
    expect((await cold.search('reader1', 'Ishmael', { kind: 'highlight' })).map((h) => h.id)).toEqual(['h1']);
    await cold.upsert('reader1', [{ id: 'h1', kind: 'highlight', text: 'It was the best of times.', bookId: 'moby' }]);
    expect((await cold.search('reader1', 'best of times', { mode: 'sparse' })).map((h) => h.id)).toEqual(['h1']);
    await cold.remove('reader1', ['n1']);
    const again = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    expect((await again.search('reader1', '黑暗森林')).map((h) => h.id)).not.toContain('n1');
  });

  it('evicts cold users to stay within its byte budget', async () => {
    const service = new PrivateIndexService({ store: new DirectoryObjectStore(dir), embedder, maxCacheBytes: 70_000 });
    for (const user of ['u1', 'u2', 'u3', 'u4']) {
      await service.upsert(user, Array.from({ length: 20 }, (_, i) => ({ id: `${user}-${i}`, kind: 'note' as const, text: `note ${i} of ${user}`, bookId: 'b' })));
    }
    expect(service.cacheStats.bytes).toBeLessThanOrEqual(70_000);
    expect(service.cacheStats.users).toBeLessThan(4);
    // An evicted user is reloaded from the store on demand.
    expect((await service.search('u1', 'note of u1', { mode: 'sparse', limit: 50 })).length).toBe(20);
  });

  it('reports an index built by another embedder as stale and starts empty', async () => {
    const store = new DirectoryObjectStore(dir);
    await new PrivateIndexService({ store, embedder: new LocalHashEmbedder({ dimension: 64 }), maxCacheBytes: 1 << 20 }).upsert('migr', [
      { id: 'x', kind: 'note', text: 'old vectors', bookId: 'b' },
    ]);
    const stale: string[] = [];
    const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 1 << 20, onStale: (user) => stale.push(user) });
    expect(await service.search('migr', 'old vectors')).toEqual([]);
    expect(stale).toEqual(['migr']);
  });
});
