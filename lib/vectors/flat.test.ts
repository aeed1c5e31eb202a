import { describe, expect, it } from 'vitest';
import { exactCosineTopK } from './exact.js';
import { FlatIndex } from './flat.js';
import { seededRandom } from '../../test/kit/random.js';
import type { VectorPoint } from './types.js';

const DIM = 64;

function points(count: number, seed = 1): VectorPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({
    id: `n${i}`,
    dense: Float32Array.from({ length: DIM }, () => random() * 2 - 1),
    sparse: { indices: [i % 7, 100 + (i % 3)], values: [1, 0.5] },
    payload: { bookId: `b${i % 4}`, text: `note ${i} ✓` },
  }));
}

/** The v1 layout written by the previous version (JSON header, f32 vectors, per-item sparse). */
function v1Bytes(items: VectorPoint[]): Buffer {
  const header = Buffer.from(JSON.stringify({ embedderId: 'e', dimension: DIM, count: items.length, ids: items.map((p) => p.id), payloads: items.map((p) => p.payload) }));
  const start = Math.ceil((5 + 4 + header.length) / 4) * 4;
  const terms = items.reduce((sum, p) => sum + p.sparse.indices.length, 0);
  const out = Buffer.alloc(start + 4 * (items.length * DIM + items.length + 2 * terms));
  out.write('FLAT1', 0, 'latin1');
  out.writeUInt32LE(header.length, 5);
  header.copy(out, 9);
  const floats = new Float32Array(out.buffer, out.byteOffset + start, items.length * DIM);
  items.forEach((p, i) => floats.set(p.dense, i * DIM));
  const counts = new Uint32Array(out.buffer, floats.byteOffset + floats.byteLength, items.length);
  const indices = new Uint32Array(out.buffer, counts.byteOffset + counts.byteLength, terms);
  const values = new Float32Array(out.buffer, indices.byteOffset + indices.byteLength, terms);
  let at = 0;
  items.forEach((p, i) => {
    counts[i] = p.sparse.indices.length;
    indices.set(p.sparse.indices, at);
    values.set(p.sparse.values, at);
    at += p.sparse.indices.length;
  });
  return out;
}

describe('FlatIndex', () => {
  it('ranks like exact f32 cosine with int8 vectors (recall@10 ≥ 0.97)', () => {
    const items = points(2000);
    const index = new FlatIndex('e', DIM);
    index.upsert(items);
    const random = seededRandom(9);
    const dataset = new Float32Array(items.length * DIM);
    items.forEach((p, i) => dataset.set(p.dense, i * DIM));
    let hit = 0;
    for (let q = 0; q < 50; q++) {
      const query = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
      const truth = new Set(exactCosineTopK(dataset, query, DIM, 10)[0]!.map((row) => `n${row}`));
      hit += index.search({ mode: 'dense', dense: query, limit: 10 }).filter((h) => truth.has(h.id)).length;
    }
    expect(hit / 500).toBeGreaterThanOrEqual(0.97);
  });

  it('round-trips through v2 bytes: same hits for dense, sparse, hybrid and filtered queries, then accepts writes', () => {
    const items = points(300);
    const index = new FlatIndex('e', DIM);
    index.upsert(items);
    index.deleteIds(['n5']);
    const loaded = FlatIndex.deserialize(index.serialize());
    expect(loaded.size).toBe(299);
    expect(loaded.embedderId).toBe('e');
    const requests = [
      { mode: 'dense' as const, dense: items[3]!.dense, limit: 5 },
      { mode: 'sparse' as const, sparse: { indices: [3, 101], values: [1, 1] }, limit: 5 },
      { mode: 'hybrid' as const, dense: items[3]!.dense, sparse: { indices: [3], values: [1] }, limit: 5, offset: 2 },
      { mode: 'hybrid' as const, dense: items[3]!.dense, sparse: { indices: [3], values: [1] }, limit: 5, filter: { must: [{ key: 'bookId', match: 'b2' }] } },
    ];
    for (const request of requests) expect(loaded.search(request)).toEqual(index.search(request));
    expect(loaded.search(requests[0]!)[0]).toMatchObject({ id: 'n3', payload: { bookId: 'b3', text: 'note 3 ✓' } });
    const filtered = loaded.search({ ...requests[1]!, limit: 50, filter: { must: [{ key: 'bookId', match: 'b1' }] } });
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((h) => h.payload.bookId === 'b1')).toBe(true);

    loaded.upsert([{ ...items[3]!, payload: { bookId: 'b9' } }]);
    loaded.deleteIds(['n4']);
    expect(loaded.has('n4')).toBe(false);
    const again = FlatIndex.deserialize(loaded.serialize());
    expect(again.size).toBe(298);
    expect(again.search({ mode: 'dense', dense: items[3]!.dense, limit: 1, filter: { must: [{ key: 'bookId', match: 'b9' }] } })[0]?.id).toBe('n3');
  });

  it('reads the v1 layout and writes v2 from then on', () => {
    const items = points(50);
    const loaded = FlatIndex.deserialize(v1Bytes(items));
    expect(loaded.size).toBe(50);
    expect(loaded.search({ mode: 'dense', dense: items[7]!.dense, limit: 1 })[0]?.id).toBe('n7');
    expect(loaded.serialize().toString('latin1', 0, 5)).toBe('FLAT2');
  });

  it('reports truncated or tampered bytes as INDEX_CORRUPT', () => {
    const index = new FlatIndex('e', DIM);
    index.upsert(points(20));
    const bytes = index.serialize();
    for (const bad of [bytes.subarray(0, bytes.length - 40), bytes.subarray(0, 10), Buffer.from('nonsense bytes'), Buffer.concat([bytes, Buffer.from('x')])]) {
      expect(() => FlatIndex.deserialize(bad)).toThrow(expect.objectContaining({ code: 'INDEX_CORRUPT' }));
    }
    const tampered = Buffer.from(bytes);
    // The posting slots sit just before the values; point one far out of range.
    const headerLength = tampered.readUInt32LE(8);
    const header = JSON.parse(tampered.toString('utf8', 12, 12 + headerLength)) as { count: number; terms: number; postings: number };
    const slotsAt = Math.ceil((12 + headerLength) / 4) * 4 + Math.ceil((header.count * DIM) / 4) * 4 + 4 * header.terms + 4 * (header.terms + 1);
    tampered.writeUInt32LE(1_000_000, slotsAt);
    expect(() => FlatIndex.deserialize(tampered)).toThrow(expect.objectContaining({ code: 'INDEX_CORRUPT' }));
  });
});
