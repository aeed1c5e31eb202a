/** Compiled filters are shared by value (query.ts): sharing must never change an answer. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../index.js';

type Loose = { _id?: string | number; [key: string]: any };

const opened: Array<{ storage: Storage; dir: string }> = [];
afterEach(async () => {
  for (const { storage, dir } of opened.splice(0)) {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function books() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-query-cache-'));
  const storage = await openStorage({ dataDir: dir });
  opened.push({ storage, dir });
  const c = storage.db('cache').collection<Loose>('books');
  await c.insertMany([
    { _id: 1, title: 'Emma', year: 1815, at: new Date('2026-01-01T00:00:00Z') },
    { _id: 2, title: 'Walden', year: 1854, at: new Date('2026-06-01T00:00:00Z') },
    { _id: 3, title: 'emma and co', year: 1990, at: new Date('2030-01-01T00:00:00Z') },
  ]);
  return c;
}

const ids = (docs: Loose[]): unknown[] => docs.map((d) => d._id).sort();

describe('embedded engine: compiled filters shared by value', () => {
  it('answers equal filters alike and different values differently, Dates and RegExps included', async () => {
    const c = await books();
    expect(ids(await c.find({ year: { $gt: 1820 } }).toArray())).toEqual([2, 3]);
    expect(ids(await c.find({ year: { $gt: 1820 } }).toArray())).toEqual([2, 3]);
    expect(ids(await c.find({ year: { $gt: 1900 } }).toArray())).toEqual([3]);
    expect(ids(await c.find({ year: { $gt: '1820' } }).toArray())).toEqual([]); // a string is not the number
    expect(ids(await c.find({ at: { $lte: new Date('2026-06-01T00:00:00Z') } }).toArray())).toEqual([1, 2]);
    expect(ids(await c.find({ at: { $lte: new Date('2026-01-01T00:00:00Z') } }).toArray())).toEqual([1]);
    expect(ids(await c.find({ title: { $regex: '^emma' } }).toArray())).toEqual([3]);
    expect(ids(await c.find({ title: { $regex: '^emma', $options: 'i' } }).toArray())).toEqual([1, 3]);
    expect(ids(await c.find({ title: /^emma/i }).toArray())).toEqual([1, 3]);
    expect(ids(await c.find({ title: /^emma/ }).toArray())).toEqual([3]);
    expect(await c.countDocuments({ year: { $gt: 1820 } })).toBe(2);
  });

  it('is not fooled by a filter object changed after it was used', async () => {
    const c = await books();
    const filter: Record<string, unknown> = { year: { $lt: 1900 } };
    expect(ids(await c.find(filter).toArray())).toEqual([1, 2]);
    filter.year = { $lt: 1820 };
    expect(ids(await c.find(filter).toArray())).toEqual([1]);
    (filter.year as Record<string, number>).$lt = 2000;
    expect(ids(await c.find(filter).toArray())).toEqual([1, 2, 3]);
  });

  it('evaluates $expr afresh on every query ($$NOW is not fixed at the first use)', async () => {
    const c = await books();
    const filter = { $expr: { $lt: ['$at', '$$NOW'] } };
    expect(ids(await c.find(filter).toArray())).toEqual([1, 2]);
    // Later than the first query's $$NOW: found only once the clock passes it, by a fresh $$NOW.
    await c.insertOne({ _id: 4, title: 'Soon', year: 2026, at: new Date(Date.now() + 50) });
    const deadline = Date.now() + 10_000;
    let found: unknown[] = [];
    while (Date.now() < deadline && !found.includes(4)) {
      found = ids(await c.find(filter).toArray());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(found).toEqual([1, 2, 4]);
  });
});
