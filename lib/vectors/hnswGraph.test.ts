import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTuning } from './embedded.js';
import { openGraph } from './hnswGraph.js';
import { seededRandom } from '../../test/kit/random.js';

const DIM = 32;
const tuning = { ...resolveTuning({}), threads: 1 };

function batch(n: number, seed: number): { keys: BigUint64Array; vectors: Float32Array } {
  const random = seededRandom(seed);
  return { keys: BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), vectors: Float32Array.from({ length: n * DIM }, () => random() * 2 - 1) };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'folio-hnsw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('HNSW graph on its own thread', () => {
  it('answers like the inline graph, and each reads the files the other saved', async () => {
    const inline = openGraph(DIM, tuning, false);
    const thread = openGraph(DIM, tuning, true);
    try {
      // add() may transfer its buffers to the thread: each graph gets its own copy.
      const { keys, vectors } = batch(500, 3);
      await inline.add(keys.slice(), vectors.slice(), 1);
      await thread.add(keys.slice(), vectors.slice(), 1);
      const query = vectors.slice(7 * DIM, 8 * DIM);
      const expected = await inline.search(query, 10);
      expect((await thread.search(query, 10)).keys).toEqual(expected.keys);
      expect(expected.keys[0]).toBe(7n);

      await thread.save(path.join(dir, 'from-thread.usearch'));
      await inline.save(path.join(dir, 'from-inline.usearch'));
      const reloadedInline = openGraph(DIM, tuning, false);
      const reloadedThread = openGraph(DIM, tuning, true);
      await reloadedInline.load(path.join(dir, 'from-thread.usearch'));
      await reloadedThread.load(path.join(dir, 'from-inline.usearch'));
      expect(await reloadedThread.size()).toBe(500);
      expect((await reloadedInline.search(query, 10)).keys).toEqual(expected.keys);
      expect((await reloadedThread.search(query, 10)).keys).toEqual(expected.keys);
      await reloadedInline.close();
      await reloadedThread.close();
    } finally {
      await inline.close();
      await thread.close();
    }
  });

  it('applies calls in the order sent: a search sent right after a removal does not see the removed key', async () => {
    const graph = openGraph(DIM, tuning, true);
    try {
      const { keys, vectors } = batch(50, 5);
      const query = vectors.slice(0, DIM);
      const added = graph.add(keys, vectors, 1);
      const removed = graph.remove(BigUint64Array.of(0n));
      const hits = graph.search(query, 5);
      await Promise.all([added, removed]);
      expect([...(await hits).keys]).not.toContain(0n);
      expect(await graph.size()).toBe(49);
    } finally {
      await graph.close();
    }
  });

  it('reports failures of a call, and rejects every call once closed', async () => {
    const graph = openGraph(DIM, tuning, true);
    await expect(graph.load(path.join(dir, 'missing.usearch'))).rejects.toThrow();
    await graph.close();
    await expect(graph.size()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('keeps the calling event loop free while it inserts', async () => {
    const { keys, vectors } = batch(2000, 9);
    const busy = async (offThread: boolean): Promise<number> => {
      const graph = openGraph(DIM, tuning, offThread);
      try {
        await graph.size(); // the thread is up
        const before = performance.eventLoopUtilization();
        await graph.add(keys.slice(), vectors.slice(), 1);
        return performance.eventLoopUtilization(before).utilization;
      } finally {
        await graph.close();
      }
    };
    const inline = await busy(false);
    const thread = await busy(true);
    // Inline, the loop is busy for the whole insert; with a thread it only waits for the reply.
    expect(inline).toBeGreaterThan(0.8);
    expect(thread).toBeLessThan(0.3);
  });
});
