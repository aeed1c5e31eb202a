/**
 * An embedded collection growing over several pages of its int8 vector store (VECTOR_PAGE_SLOTS
 * slots a page, added as needed instead of copying the store): every slot keeps its exact int8
 * vector through growth, removals and re-upserts, filtered exact search reads the right one on
 * every page, and a save/load round trip restores the same bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTuning } from './embedded.js';
import { EmbeddedCollection, VECTOR_PAGE_SLOTS } from './embeddedCollection.js';
import { loadCollection, saveCollection } from './embeddedFiles.js';
import { quantizeI8 } from './exact.js';
import { openGraph } from './hnswGraph.js';
import type { VectorPoint } from './types.js';

const DIM = 8;
const tuning = resolveTuning({ threads: 1 });
const dirs: string[] = [];
const collections: EmbeddedCollection[] = [];
afterEach(async () => {
  for (const c of collections.splice(0)) await c.hnsw.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let seed = 7;
const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
const pointOf = (id: string): VectorPoint => ({
  id,
  dense: Float32Array.from({ length: DIM }, random),
  sparse: { indices: [id.length], values: [1] },
  payload: { pid: id },
});

/** The stored bytes, slot after slot, as the collection hands them to a save. */
const storedBytes = (c: EmbeddedCollection): Int8Array => {
  const chunks = [...c.vectorChunks()];
  const all = new Int8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
};

/** Every live point's slot holds exactly its quantised vector, and every dead slot zeros. */
function expectExact(c: EmbeddedCollection, expected: Map<string, VectorPoint>): void {
  const bytes = storedBytes(c);
  expect(bytes.length).toBe(c.slotCount * DIM);
  const live = new Set<number>();
  for (const { slot, id } of c.livePoints()) {
    live.add(slot);
    expect(Array.from(bytes.subarray(slot * DIM, (slot + 1) * DIM)), `${id} at slot ${slot}`).toEqual(Array.from(quantizeI8(expected.get(id)!.dense)));
  }
  expect(live.size).toBe(expected.size);
  for (let slot = 0; slot < c.slotCount; slot++) {
    if (!live.has(slot)) expect(bytes.subarray(slot * DIM, (slot + 1) * DIM).every((v) => v === 0), `dead slot ${slot}`).toBe(true);
  }
}

/** Filtered exact search (a one-point candidate set is scanned from the int8 store) finds each sampled point as itself. */
async function expectFoundByExactScan(c: EmbeddedCollection, expected: Map<string, VectorPoint>): Promise<void> {
  const ids = [...expected.keys()];
  for (let i = 0; i < ids.length; i += 397) {
    const point = expected.get(ids[i]!)!;
    const [hit] = await c.search({ mode: 'dense', dense: point.dense, filter: { must: [{ key: 'pid', match: point.id }] }, limit: 1 }, 0);
    expect(hit?.id).toBe(point.id);
    expect(hit!.score).toBeGreaterThan(0.99);
  }
}

describe('embedded collection growing over several vector pages', () => {
  it('keeps every vector exact across growth, removal and re-upsert, and through a save and load', async () => {
    const c = new EmbeddedCollection({ embedderId: 'test', dimension: DIM, payloadIndexes: ['pid'] }, openGraph(DIM, tuning, false), tuning);
    collections.push(c);
    const expected = new Map<string, VectorPoint>();
    const total = 3 * VECTOR_PAGE_SLOTS + 123;
    for (let start = 0; start < total; start += 500) {
      const batch = Array.from({ length: Math.min(500, total - start) }, (_, i) => pointOf(`p${start + i}`));
      await c.upsert(batch);
      for (const p of batch) expected.set(p.id, p);
    }
    // Removals on every page, and re-upserts that move points from early pages to a new slot on the last.
    const removed = [...expected.keys()].filter((_, i) => i % 1000 === 3);
    expect(await c.deleteIds(removed)).toBe(removed.length);
    for (const id of removed) expected.delete(id);
    const moved = [0, VECTOR_PAGE_SLOTS - 1, VECTOR_PAGE_SLOTS, 2 * VECTOR_PAGE_SLOTS + 5].map((n) => pointOf(`p${n}`));
    await c.upsert(moved);
    for (const p of moved) expected.set(p.id, p);

    expect(c.slotCount).toBe(total + moved.length);
    expect(c.slotCount).toBeGreaterThan(3 * VECTOR_PAGE_SLOTS);
    expectExact(c, expected);
    await expectFoundByExactScan(c, expected);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'folio-vector-pages-'));
    dirs.push(dir);
    await saveCollection(dir, c);
    const loaded = await loadCollection(dir, 'pages', tuning);
    collections.push(loaded);
    expect(loaded.slotCount).toBe(c.slotCount);
    expect(storedBytes(loaded)).toEqual(storedBytes(c));
    expectExact(loaded, expected);
    await expectFoundByExactScan(loaded, expected);

    // A loaded collection grows on from its last slot onto a new page.
    const more = Array.from({ length: VECTOR_PAGE_SLOTS }, (_, i) => pointOf(`q${i}`));
    await loaded.upsert(more);
    for (const p of more) expected.set(p.id, p);
    expectExact(loaded, expected);
    await expectFoundByExactScan(loaded, expected);
  }, 60_000);
});
