import { describe, expect, it } from 'vitest';
import { IdMap, SlotSet } from './shardedSets.js';

describe('SlotSet', () => {
  it('behaves as a Set of slots across its parts: size, membership on delete, every slot listed once', () => {
    const set = new SlotSet();
    const reference = new Set<number>();
    for (let slot = 0; slot < 20_000; slot += 3) {
      set.add(slot);
      reference.add(slot);
    }
    set.add(3); // already there
    for (let slot = 0; slot < 20_000; slot += 7) expect(set.delete(slot)).toBe(reference.delete(slot));
    expect(set.delete(1)).toBe(false);
    expect(set.size).toBe(reference.size);
    expect(set.toArray().sort((a, b) => a - b)).toEqual([...reference].sort((a, b) => a - b));
    expect([...set].sort((a, b) => a - b)).toEqual([...reference].sort((a, b) => a - b));
  });
});

describe('IdMap', () => {
  it('behaves as a Map by id: get, overwrite, delete, size and iteration over every entry', () => {
    const map = new IdMap<number>();
    const reference = new Map<string, number>();
    for (let i = 0; i < 5_000; i++) {
      map.set(`book.${i % 50}.chunk.${i}`, i);
      reference.set(`book.${i % 50}.chunk.${i}`, i);
    }
    map.set('book.0.chunk.0', -1);
    reference.set('book.0.chunk.0', -1);
    for (let i = 0; i < 5_000; i += 11) expect(map.delete(`book.${i % 50}.chunk.${i}`)).toBe(reference.delete(`book.${i % 50}.chunk.${i}`));
    expect(map.delete('missing')).toBe(false);
    expect(map.size).toBe(reference.size);
    expect(map.get('book.0.chunk.0')).toBe(reference.get('book.0.chunk.0'));
    expect(map.get('book.11.chunk.11')).toBeUndefined();
    expect(new Map(map)).toEqual(reference);
    expect([...map.values()].sort((a, b) => a - b)).toEqual([...reference.values()].sort((a, b) => a - b));
  });
});

describe('IdMap with number keys (hashed term ids)', () => {
  it('spreads clustered and unsigned 32-bit ids over its parts and finds each again', () => {
    const map = new IdMap<string, number>();
    const ids = [...Array.from({ length: 3_000 }, (_, i) => i), ...Array.from({ length: 3_000 }, (_, i) => 0xffff_ffff - i * 4096)];
    for (const id of ids) map.set(id, `t${id}`);
    for (const id of ids.filter((_, i) => i % 5 === 0)) expect(map.delete(id)).toBe(true);
    expect(map.size).toBe(ids.length - Math.ceil(ids.length / 5));
    for (const [i, id] of ids.entries()) expect(map.get(id)).toBe(i % 5 === 0 ? undefined : `t${id}`);
  });
});
