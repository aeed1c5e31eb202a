/**
 * The embedded store's log: a flush appends only its changes (the saved files stay as they were),
 * a reopen replays them (upserts, re-upserts, deletes) to the same answers, a torn last line is cut
 * off, and once the log outgrows its share of the saved files a flush saves in full and starts a
 * new log.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedVectorStore } from './embedded.js';
import type { VectorPoint, VectorStore } from './types.js';

const DIM = 8;
const dirs: string[] = [];
const stores: VectorStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let seed = 11;
const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
const pointOf = (id: string, text = ''): VectorPoint => ({
  id,
  dense: Float32Array.from({ length: DIM }, random),
  sparse: { indices: [id.length % 7, 10 + (Number(id.slice(1)) % 5)], values: [1, 0.5] },
  payload: { bookId: `b${Number(id.slice(1)) % 3}`, text },
});

async function openStore(directory: string, graphThread = false): Promise<VectorStore> {
  const store = await EmbeddedVectorStore.open({ directory, threads: 1, graphThread });
  stores.push(store);
  return store;
}

const manifestOf = (dir: string): { log: string; savedAt: string } => JSON.parse(readFileSync(path.join(dir, 'c', 'manifest.json'), 'utf8'));

/** What a reader sees: every point's best dense match, counts, and (small collections: no ties at the cut) a sparse query. */
async function answers(store: VectorStore, points: Map<string, VectorPoint>, withSparse = true): Promise<unknown> {
  const dense = [];
  for (const p of points.values()) dense.push((await store.search('c', { mode: 'dense', dense: p.dense, limit: 1 }))[0]?.id);
  return {
    count: await store.count('c'),
    perBook: await Promise.all(['b0', 'b1', 'b2'].map((b) => store.count('c', { must: [{ key: 'bookId', match: b }] }))),
    dense,
    sparse: withSparse ? (await store.search('c', { mode: 'sparse', sparse: { indices: [3, 12], values: [1, 1] }, limit: 200 })).map((h) => [h.id, h.payload]).sort() : [],
  };
}

describe.each([false, true])('embedded vector log (graph thread: %s)', (graphThread) => {
  it('appends a flush to the log, and a reopen replays upserts, re-upserts and deletes to the same answers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'folio-vlog-'));
    dirs.push(dir);
    const store = await openStore(dir, graphThread);
    await store.ensureCollection('c', { embedderId: 'test', dimension: DIM, payloadIndexes: ['bookId'] });
    const live = new Map<string, VectorPoint>();
    const upsert = async (points: VectorPoint[]): Promise<void> => {
      await store.upsert('c', points);
      for (const p of points) live.set(p.id, p);
    };
    await upsert(Array.from({ length: 60 }, (_, i) => pointOf(`p${i}`)));
    await store.flush();
    const saved = manifestOf(dir);
    const graphBytes = statSync(path.join(dir, 'c', 'hnsw.usearch')).size;

    await upsert([pointOf('p3', 'again'), pointOf('p7', 'again'), ...Array.from({ length: 15 }, (_, i) => pointOf(`p${100 + i}`))]);
    await store.deleteIds('c', ['p10', 'p11', 'p100']);
    for (const id of ['p10', 'p11', 'p100']) live.delete(id);
    await store.delete('c', { must: [{ key: 'bookId', match: 'b2' }, { key: 'text', match: 'nothing' }] });
    await store.flush();

    // Appended, not saved again: the manifest and the graph file are the ones of the first flush.
    expect(manifestOf(dir)).toEqual(saved);
    expect(statSync(path.join(dir, 'c', 'hnsw.usearch')).size).toBe(graphBytes);
    expect(readFileSync(path.join(dir, 'c', saved.log), 'utf8').trim().split('\n').length).toBeGreaterThan(3);

    const expected = await answers(store, live);
    // A second store opens the same files, as after a crash (the first was never closed).
    const reopened = await openStore(dir, graphThread);
    expect(await answers(reopened, live)).toEqual(expected);
    expect((await reopened.search('c', { mode: 'dense', dense: live.get('p3')!.dense, limit: 1 }))[0]).toMatchObject({ id: 'p3', payload: { text: 'again' } });
  });

  it('cuts off a torn last line, and appends after it work and replay', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'folio-vlog-'));
    dirs.push(dir);
    const first = await openStore(dir, graphThread);
    await first.ensureCollection('c', { embedderId: 'test', dimension: DIM, payloadIndexes: ['bookId'] });
    const live = new Map(Array.from({ length: 20 }, (_, i) => [`p${i}`, pointOf(`p${i}`)] as const));
    await first.upsert('c', [...live.values()]);
    await first.flush();
    const log = path.join(dir, 'c', manifestOf(dir).log);
    const good = statSync(log).size;
    appendFileSync(log, '{"u":99,"id":"torn","p":{'); // a crash mid-append

    const second = await openStore(dir, graphThread);
    expect(await second.count('c')).toBe(20);
    expect(statSync(log).size).toBe(good);
    live.set('p50', pointOf('p50'));
    await second.upsert('c', [live.get('p50')!]);
    await second.flush();

    const third = await openStore(dir, graphThread);
    expect(await answers(third, live)).toEqual(await answers(second, live));
  });

  it('saves in full once the log outgrows its share, and starts a new log', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'folio-vlog-'));
    dirs.push(dir);
    const store = await openStore(dir, graphThread);
    await store.ensureCollection('c', { embedderId: 'test', dimension: DIM, payloadIndexes: ['bookId'] });
    const firstLog = manifestOf(dir).log;
    const live = new Map<string, VectorPoint>();
    // ~1 KiB a record: the log passes its 4 MiB floor after ~4,000 points.
    for (let batch = 0; batch < 6; batch++) {
      const points = Array.from({ length: 1_000 }, (_, i) => pointOf(`p${batch * 1_000 + i}`, 'x'.repeat(1_000)));
      await store.upsert('c', points);
      for (const p of points) live.set(p.id, p);
      await store.flush();
    }
    const now = manifestOf(dir).log;
    expect(now).not.toBe(firstLog);
    expect(readdirSync(path.join(dir, 'c')).filter((f) => f.startsWith('log-'))).toEqual(statSync(path.join(dir, 'c', now), { throwIfNoEntry: false }) ? [now] : []);
    const reopened = await openStore(dir, graphThread);
    expect(await reopened.count('c')).toBe(6_000);
    const sample = new Map([...live].filter((_, i) => i % 500 === 0));
    expect(await answers(reopened, sample, false)).toEqual(await answers(store, sample, false));
  });
});
