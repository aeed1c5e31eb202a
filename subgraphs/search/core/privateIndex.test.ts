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

/** A store that counts what each put writes and can fail the head put that follows a base put. */
class CountingStore extends DirectoryObjectStore {
  puts: Array<{ key: string; bytes: number }> = [];
  failHeadAfterBase = false;
  override async put(key: string, bytes: Uint8Array): Promise<void> {
    if (this.failHeadAfterBase && key.endsWith('.head') && this.puts.at(-1)?.key.endsWith('.flat')) {
      this.failHeadAfterBase = false;
      throw new Error('simulated crash');
    }
    this.puts.push({ key, bytes: bytes.byteLength });
    return super.put(key, bytes);
  }
}

describe('PrivateIndexService storage (base + deltas)', () => {
  const note = (user: string, i: number) => ({ id: `${user}-n${i}`, kind: 'note' as const, text: `note number ${i} about whales and the sea, ${'words '.repeat(20)}`, bookId: 'moby' });

  it('stores each write as a small delta, folds them into the base, and reloads everything', async () => {
    const store = new CountingStore(await mkdtemp(path.join(tmpdir(), 'folio-private-delta-')));
    const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    const n = 300;
    for (let i = 0; i < n; i++) await service.upsert('grower', [note('grower', i)]);
    await service.remove('grower', ['grower-n7']);

    const deltaPuts = store.puts.filter((p) => /\.d\d+$/.test(p.key));
    const basePuts = store.puts.filter((p) => p.key.endsWith('.flat'));
    // Every write stored one delta of its own size, not the whole index…
    expect(Math.max(...deltaPuts.map((p) => p.bytes))).toBeLessThan(8 * 1024);
    // …and the base was rewritten only now and then (the whole-index rewrite per write was n puts).
    expect(basePuts.length).toBeGreaterThan(0);
    expect(basePuts.length).toBeLessThan(n / 20);
    const total = store.puts.reduce((sum, p) => sum + p.bytes, 0);
    const lastBase = basePuts.at(-1)!.bytes;
    expect(total).toBeLessThan(lastBase * 12); // rewriting the whole index each time: ~n/2 × that

    const state = await service.storedState('grower');
    expect(state.seq - state.base).toBeLessThanOrEqual(128);
    // Deltas already folded into the base are deleted.
    const { readdir } = await import('node:fs/promises');
    const files = await readdir(path.join((store as unknown as { root: string }).root, 'private-index', 'v1'));
    expect(files.filter((f) => /^grower\.d\d+$/.test(f)).length).toBe(state.seq - state.base);

    const cold = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    const hits = await cold.search('grower', 'whales sea', { mode: 'sparse', limit: 101, offset: 0 });
    expect(hits.length).toBe(101);
    const ids = new Set<string>();
    for (let offset = 0; offset <= 300; offset += 100) for (const hit of await cold.search('grower', 'whales sea', { mode: 'sparse', limit: 100, offset })) ids.add(hit.id);
    expect(ids.size).toBe(n - 1);
    expect(ids.has('grower-n7')).toBe(false);
  });

  it('loses nothing when a fold is cut between the new base and the head', async () => {
    const store = new CountingStore(await mkdtemp(path.join(tmpdir(), 'folio-private-crash-')));
    const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    for (let i = 0; i < 40; i++) await service.upsert('crashy', [note('crashy', i)]);
    await service.remove('crashy', ['crashy-n3']);
    // The next fold's head put fails (a crash between the new base and its head).
    const before = await service.storedState('crashy');
    store.failHeadAfterBase = true;
    let folded = false;
    for (let i = 40; i < 400 && !folded; i++) {
      try {
        await service.upsert('crashy', [note('crashy', i)]);
      } catch {
        folded = true;
      }
    }
    expect(folded).toBe(true);
    expect((await service.storedState('crashy')).seq).toBeGreaterThan(before.seq);
    const cold = new PrivateIndexService({ store, embedder, maxCacheBytes: 64 << 20 });
    const ids = new Set<string>();
    for (let offset = 0; offset <= 1000; offset += 100) for (const hit of await cold.search('crashy', 'whales sea', { mode: 'sparse', limit: 100, offset })) ids.add(hit.id);
    expect(ids.has('crashy-n3')).toBe(false);
    expect(ids.has('crashy-n0')).toBe(true);
    expect(ids.has('crashy-n39')).toBe(true);
  });
});
