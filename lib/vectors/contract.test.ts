/**
 * The conformance suite of the vector seam: every backend must pass it. Embedded always runs;
 * Qdrant runs when QDRANT_URL is set.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedVectorStore, QdrantVectorStore, VectorStoreError } from './index.js';
import type { SparseVector, VectorPoint, VectorStore } from './index.js';
import { seededRandom as rng } from '../../test/kit/random.js';

const DIM = 16;

function vec(random: () => number, dim = DIM): Float32Array {
  return Float32Array.from({ length: dim }, () => random() * 2 - 1);
}

function near(base: Float32Array, random: () => number, noise: number): Float32Array {
  return base.map((v) => v + (random() * 2 - 1) * noise);
}

const sparse = (entries: Record<number, number>): SparseVector => ({
  indices: Object.keys(entries).map(Number),
  values: Object.values(entries),
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(VectorStoreError);
  await expect(promise).rejects.toMatchObject({ code });
}

interface Backend {
  readonly name: string;
  open(): Promise<VectorStore>;
  cleanup(): Promise<void>;
}

const backends: Backend[] = [];
let embeddedDir = '';
backends.push({
  name: 'embedded',
  open: async () => EmbeddedVectorStore.open({ directory: embeddedDir }),
  cleanup: async () => {},
});
backends.push({
  name: 'embedded, graph thread',
  open: async () => EmbeddedVectorStore.open({ directory: embeddedDir, graphThread: true }),
  cleanup: async () => {},
});
if (process.env['QDRANT_URL']) {
  backends.push({
    name: 'qdrant',
    open: async () => new QdrantVectorStore({ url: process.env['QDRANT_URL']!, apiKey: process.env['QDRANT_API_KEY'] }),
    cleanup: async () => {},
  });
}

beforeAll(async () => {
  embeddedDir = await mkdtemp(path.join(tmpdir(), 'folio-vectors-'));
});
afterAll(async () => {
  await rm(embeddedDir, { recursive: true, force: true });
});

describe.each(backends)('VectorStore contract: $name', (backend) => {
  let store: VectorStore;
  const collection = `contract_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const random = rng(42);
  const anchor = vec(random);
  const other = vec(random);
  const points: VectorPoint[] = [
    { id: 'p-close', dense: near(anchor, random, 0.05), sparse: sparse({ 1: 1, 2: 1 }), payload: { bookId: 'b1', chapterId: 'c1', tags: ['x', 'y'], visible: true } },
    { id: 'p-mid', dense: near(anchor, random, 0.6), sparse: sparse({ 1: 1, 3: 1 }), payload: { bookId: 'b1', chapterId: 'c2', tags: ['y'], visible: true } },
    { id: 'p-far', dense: other, sparse: sparse({ 1: 1, 4: 2 }), payload: { bookId: 'b2', chapterId: 'c3', tags: [], visible: false } },
    { id: 'p-rare', dense: near(other, random, 0.3), sparse: sparse({ 1: 1, 9: 1 }), payload: { bookId: 'b3', chapterId: 'c4', visible: true } },
  ];

  beforeAll(async () => {
    store = await backend.open();
    await store.ensureCollection(collection, { dimension: DIM, embedderId: 'test-embedder:16', payloadIndexes: ['bookId', 'chapterId'] });
    await store.upsert(collection, points);
  });
  afterAll(async () => {
    await store.drop(collection).catch(() => undefined);
    await store.close();
    await backend.cleanup();
  });

  it('records the embedder and refuses to mix another one', async () => {
    expect(await store.info(collection)).toEqual({ embedderId: 'test-embedder:16', dimension: DIM, points: 4 });
    await store.ensureCollection(collection, { dimension: DIM, embedderId: 'test-embedder:16' });
    await expectCode(store.ensureCollection(collection, { dimension: DIM, embedderId: 'other-model:16' }), 'EMBEDDER_MISMATCH');
    await expectCode(store.ensureCollection(collection, { dimension: 32, embedderId: 'test-embedder:16' }), 'EMBEDDER_MISMATCH');
    expect(await store.info('no_such_collection')).toBeUndefined();
    await expectCode(store.search('no_such_collection', { mode: 'dense', dense: anchor, limit: 1 }), 'COLLECTION_NOT_FOUND');
  });

  it('ranks dense results by cosine similarity and returns payloads', async () => {
    const hits = await store.search(collection, { mode: 'dense', dense: anchor, limit: 3 });
    expect(hits.map((h) => h.id)).toEqual(['p-close', 'p-mid', expect.any(String)]);
    expect(hits[0]!.score).toBeGreaterThan(0.99);
    expect(hits[0]!.score).toBeLessThanOrEqual(1.0001);
    expect(hits[0]!.payload).toEqual(points[0]!.payload);
  });

  it('scores sparse matches with idf: a rare shared term outranks a common one', async () => {
    // Term 1 is in every point (idf ≈ 0.1); term 9 in one point (idf ≈ 1.3).
    const hits = await store.search(collection, { mode: 'sparse', sparse: sparse({ 1: 1, 9: 1 }), limit: 10 });
    expect(hits[0]!.id).toBe('p-rare');
    expect(hits).toHaveLength(4);
    const expectedTop = Math.log(1 + (4 - 1 + 0.5) / 1.5) + Math.log(1 + (4 - 4 + 0.5) / 4.5);
    expect(hits[0]!.score).toBeCloseTo(expectedTop, 3);
    // A query sharing no term finds nothing.
    expect(await store.search(collection, { mode: 'sparse', sparse: sparse({ 77: 1 }), limit: 10 })).toEqual([]);
  });

  it('fuses dense and sparse lists by reciprocal rank in hybrid mode', async () => {
    const hits = await store.search(collection, { mode: 'hybrid', dense: anchor, sparse: sparse({ 9: 1 }), limit: 4 });
    // p-close is first in dense; p-rare is the only sparse match. Both lead; RRF scores are 1/(60+r) sums.
    expect(hits.map((h) => h.id).slice(0, 2).sort()).toEqual(['p-close', 'p-rare']);
    expect(hits[0]!.score).toBeLessThan(2 / 61 + 1e-6);
    const both = await store.search(collection, { mode: 'hybrid', dense: anchor, sparse: sparse({ 2: 1 }), limit: 2 });
    expect(both[0]!.id).toBe('p-close'); // first in both lists
  });

  it('applies must, mustNot, any and array fields in every mode', async () => {
    const byBook = await store.search(collection, { mode: 'dense', dense: anchor, limit: 10, filter: { must: [{ key: 'bookId', match: 'b2' }] } });
    expect(byBook.map((h) => h.id)).toEqual(['p-far']);
    const anyOf = await store.search(collection, { mode: 'sparse', sparse: sparse({ 1: 1 }), limit: 10, filter: { must: [{ key: 'bookId', match: { any: ['b1', 'b3'] } }] } });
    expect(anyOf.map((h) => h.id).sort()).toEqual(['p-close', 'p-mid', 'p-rare']);
    const tagged = await store.search(collection, { mode: 'hybrid', dense: anchor, sparse: sparse({ 1: 1 }), limit: 10, filter: { must: [{ key: 'tags', match: 'y' }], mustNot: [{ key: 'chapterId', match: 'c2' }] } });
    expect(tagged.map((h) => h.id)).toEqual(['p-close']);
    expect(await store.count(collection, { must: [{ key: 'visible', match: true }] })).toBe(3);
    expect(await store.count(collection, { mustNot: [{ key: 'visible', match: true }] })).toBe(1);
    expect(await store.count(collection)).toBe(4);
  });

  it('pages with offset consistently with an unpaged query', async () => {
    const all = await store.search(collection, { mode: 'dense', dense: anchor, limit: 4 });
    const page = await store.search(collection, { mode: 'dense', dense: anchor, limit: 2, offset: 2 });
    expect(page.map((h) => h.id)).toEqual(all.slice(2).map((h) => h.id));
  });

  it('replaces a point on upsert with the same id', async () => {
    await store.upsert(collection, [{ id: 'p-far', dense: near(anchor, random, 0.01), sparse: sparse({ 5: 1 }), payload: { bookId: 'b9' } }]);
    expect(await store.count(collection)).toBe(4);
    const hits = await store.search(collection, { mode: 'sparse', sparse: sparse({ 5: 1 }), limit: 5 });
    expect(hits.map((h) => [h.id, h.payload])).toEqual([['p-far', { bookId: 'b9' }]]);
    expect(await store.count(collection, { must: [{ key: 'bookId', match: 'b2' }] })).toBe(0);
    // Its old sparse terms are gone too.
    expect((await store.search(collection, { mode: 'sparse', sparse: sparse({ 4: 1 }), limit: 5 })).length).toBe(0);
  });

  it('deletes by filter (returning the count) and by id', async () => {
    const extra: VectorPoint[] = Array.from({ length: 5 }, (_, i) => ({ id: `tmp-${i}`, dense: vec(random), sparse: sparse({ [100 + i]: 1 }), payload: { bookId: 'tmp' } }));
    await store.upsert(collection, extra);
    expect(await store.count(collection)).toBe(9);
    expect(await store.delete(collection, { must: [{ key: 'bookId', match: 'tmp' }] })).toBe(5);
    expect(await store.count(collection)).toBe(4);
    await store.deleteIds(collection, ['p-mid', 'never-existed']);
    expect(await store.count(collection)).toBe(3);
    const hits = await store.search(collection, { mode: 'dense', dense: anchor, limit: 10 });
    expect(hits.map((h) => h.id)).not.toContain('p-mid');
  });

  it('rejects malformed input without changing stored data', async () => {
    const before = await store.count(collection);
    await expectCode(store.upsert(collection, [{ id: 'bad', dense: new Float32Array(DIM + 1), sparse: sparse({}), payload: {} }]), 'INVALID_ARGUMENT');
    await expectCode(store.upsert(collection, [{ id: 'bad', dense: vec(random), sparse: { indices: [1, 1], values: [1, 2] }, payload: {} }]), 'INVALID_ARGUMENT');
    await expectCode(store.upsert(collection, [{ id: 'bad', dense: vec(random), sparse: sparse({}), payload: { __id: 'x' } }]), 'INVALID_ARGUMENT');
    // One bad point after many good ones (more than an upsert slice): none of the batch is written.
    const good = Array.from({ length: 200 }, (_, i) => ({ id: `batch-${i}`, dense: vec(random), sparse: sparse({}), payload: {} }));
    await expectCode(store.upsert(collection, [...good, { id: 'bad', dense: new Float32Array(DIM), sparse: sparse({}), payload: {} }]), 'INVALID_ARGUMENT');
    await expectCode(store.search(collection, { mode: 'dense', dense: anchor, limit: 0 }), 'INVALID_ARGUMENT');
    await expectCode(store.search(collection, { mode: 'hybrid', dense: anchor, limit: 5 }), 'INVALID_ARGUMENT');
    await expectCode(store.search(collection, { mode: 'dense', dense: anchor, limit: 5, filter: { must: [{ key: 'a b', match: 1 }] } }), 'INVALID_ARGUMENT');
    await expectCode(store.ensureCollection('../escape', { dimension: DIM, embedderId: 'x' }), 'INVALID_ARGUMENT');
    expect(await store.count(collection)).toBe(before);
  });
});

describe.each([false, true])('embedded backend (graph thread: %s): persistence and filter planning', (graphThread) => {
  const base = (): string => path.join(embeddedDir, graphThread ? 'thread' : 'inline');
  it('survives close and reopen with identical results', async () => {
    const dir = path.join(base(), 'persist');
    const random = rng(7);
    const store = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    await store.ensureCollection('c', { dimension: DIM, embedderId: 'e:16', payloadIndexes: ['bookId'] });
    const pts = Array.from({ length: 300 }, (_, i) => ({ id: `id-${i}`, dense: vec(random), sparse: sparse({ [i % 17]: 1, 1000: 0.5 }), payload: { bookId: `b${i % 5}` } }));
    await store.upsert('c', pts);
    await store.deleteIds('c', ['id-3', 'id-4']);
    const query = { mode: 'hybrid' as const, dense: pts[10]!.dense, sparse: sparse({ 10: 1 }), limit: 10, filter: { must: [{ key: 'bookId', match: 'b0' }] } };
    const before = await store.search('c', query);
    await store.close();

    const reopened = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    expect(await reopened.info('c')).toEqual({ embedderId: 'e:16', dimension: DIM, points: 298 });
    expect(await reopened.search('c', query)).toEqual(before);
    // New writes after a reopen never reuse a dead slot.
    await reopened.upsert('c', [{ id: 'new', dense: pts[10]!.dense, sparse: sparse({ 10: 1 }), payload: { bookId: 'b0' } }]);
    expect((await reopened.search('c', { ...query, mode: 'dense' })).map((h) => h.id).slice(0, 2).sort()).toEqual(['id-10', 'new']);
    expect(await reopened.count('c')).toBe(299);
    await reopened.close();
  });

  it('reports a damaged index as INDEX_CORRUPT and rebuilds after drop', async () => {
    const dir = path.join(base(), 'corrupt');
    const store = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    await store.ensureCollection('c', { dimension: DIM, embedderId: 'e:16' });
    await store.upsert('c', [{ id: 'a', dense: vec(rng(1)), sparse: sparse({ 1: 1 }), payload: {} }]);
    await store.close();
    await truncate(path.join(dir, 'c', 'vectors.i8'), 8);

    const reopened = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    await expectCode(reopened.search('c', { mode: 'sparse', sparse: sparse({ 1: 1 }), limit: 1 }), 'INDEX_CORRUPT');
    await expectCode(reopened.info('c'), 'INDEX_CORRUPT');
    await reopened.drop('c');
    await reopened.ensureCollection('c', { dimension: DIM, embedderId: 'e:16' });
    expect(await reopened.count('c')).toBe(0);
    await reopened.close();
  });

  it('reads a format-1 collection (f32 vectors file) and saves it as format 2', async () => {
    const dir = path.join(base(), 'format1');
    const store = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    await store.ensureCollection('c', { dimension: DIM, embedderId: 'e:16', payloadIndexes: ['bookId'] });
    const random = rng(5);
    const pts = Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, dense: vec(random), sparse: sparse({ [i % 5]: 1 }), payload: { bookId: i < 3 ? 'few' : 'many' } }));
    await store.upsert('c', pts);
    await store.close();
    // Rewrite the folder the way format 1 stored it: f32 vectors in vectors.f32.
    const folder = path.join(dir, 'c');
    const i8 = new Int8Array(await readFile(path.join(folder, 'vectors.i8')));
    const f32 = Buffer.from(Float32Array.from(i8).buffer);
    await writeFile(path.join(folder, 'vectors.f32'), f32);
    await unlink(path.join(folder, 'vectors.i8'));
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    manifest.format = 1;
    manifest.files.vectors = { bytes: f32.length, sha256: createHash('sha256').update(f32).digest('hex') };
    await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));

    const reopened = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    const hits = await reopened.search('c', { mode: 'dense', dense: pts[1]!.dense, limit: 1, filter: { must: [{ key: 'bookId', match: 'few' }] } });
    expect(hits[0]?.id).toBe('p1');
    await reopened.upsert('c', [{ ...pts[0]!, id: 'extra' }]);
    await reopened.close();
    const again = await EmbeddedVectorStore.open({ graphThread, directory: dir });
    expect(await again.count('c')).toBe(41);
    await again.close();
  });

  it('scores a selectively filtered sparse query from the candidates exactly as from the posting lists', async () => {
    const random = rng(17);
    const pts = Array.from({ length: 600 }, (_, i) => ({
      id: `s${i}`,
      dense: vec(random),
      sparse: sparse({ [i % 3]: 1 + i / 1000, [10 + (i % 11)]: 0.5 }), // distinct scores: no ties at the cut
      payload: { bookId: `b${i % 20}` },
    }));
    const results: string[][] = [];
    for (const threshold of [0, 10_000]) {
      const store = await EmbeddedVectorStore.open({ graphThread, directory: path.join(base(), `sparse-plan-${threshold}`), exactSearchThreshold: threshold });
      await store.ensureCollection('c', { dimension: DIM, embedderId: 'e:16', payloadIndexes: ['bookId'] });
      await store.upsert('c', pts);
      const hits = await store.search('c', { mode: 'sparse', sparse: sparse({ 1: 1, 12: 1 }), limit: 10, filter: { must: [{ key: 'bookId', match: 'b4' }] } });
      results.push(hits.map((h) => `${h.id}:${h.score.toFixed(5)}`));
      await store.close();
    }
    expect(results[0]!.length).toBeGreaterThan(0);
    expect(results[1]).toEqual(results[0]);
  });

  it('returns exact filtered top-k whether the filter is selective, broad or unindexed', async () => {
    const random = rng(99);
    // One insert thread: a parallel HNSW build is not deterministic, and the graph-path assertion below is approximate.
    const store = await EmbeddedVectorStore.open({ graphThread, directory: path.join(base(), 'planner'), exactSearchThreshold: 50, threads: 1 });
    await store.ensureCollection('c', { dimension: DIM, embedderId: 'e:16', payloadIndexes: ['bookId'] });
    const pts = Array.from({ length: 3000 }, (_, i) => ({
      id: `id-${i}`,
      dense: vec(random),
      sparse: sparse({ 1: 1 }),
      payload: { bookId: i % 500 === 0 ? 'rare' : i % 2 === 0 ? 'even' : 'odd', shelf: `s${i % 300}` },
    }));
    await store.upsert('c', pts);
    const query = vec(random);
    const cosine = (a: Float32Array, b: Float32Array): number => {
      let dot = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
      return dot / Math.sqrt(na * nb);
    };
    const truth = (keep: (p: (typeof pts)[number]) => boolean, k: number): string[] =>
      pts.filter(keep).sort((a, b) => cosine(b.dense, query) - cosine(a.dense, query)).slice(0, k).map((p) => p.id);

    const rare = await store.search('c', { mode: 'dense', dense: query, limit: 10, filter: { must: [{ key: 'bookId', match: 'rare' }] } });
    expect(rare.map((h) => h.id)).toEqual(truth((p) => p.payload.bookId === 'rare', 10)); // 6 matches: exact path
    const even = await store.search('c', { mode: 'dense', dense: query, limit: 10, filter: { must: [{ key: 'bookId', match: 'even' }] } });
    const evenTruth = truth((p) => p.payload.bookId === 'even', 10);
    expect(even.filter((h) => evenTruth.includes(h.id)).length).toBeGreaterThanOrEqual(9); // graph path, approximate
    expect(even.every((h) => h.payload['bookId'] === 'even')).toBe(true);
    const shelf = await store.search('c', { mode: 'dense', dense: query, limit: 10, filter: { must: [{ key: 'shelf', match: 's7' }] } });
    expect(shelf.map((h) => h.id)).toEqual(truth((p) => p.payload.shelf === 's7', 10)); // unindexed, 10 matches: widening then exact
    await store.close();
  });
});
