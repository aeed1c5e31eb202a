/**
 * Embedded-only behaviour the contract suite can't see: index use, journal recovery (torn tail,
 * corruption), compaction, the process lock, and transaction write serialisation.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type ObjectId, type Storage } from '../index.js';
import { engineOf, plannerOptions } from './index.js';

/** Test documents with any `_id` type (the driver's default schema assumes ObjectId). */
type Loose = { _id?: string | number | ObjectId; [key: string]: any };

const dirs: string[] = [];
const storages: Storage[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-engine-'));
  dirs.push(d);
  return d;
};
const open = async (dataDir: string, compactAtBytes?: number): Promise<Storage> => {
  const s = await openStorage({ dataDir, ...(compactAtBytes ? { compactAtBytes } : {}) });
  storages.push(s);
  return s;
};

afterEach(async () => {
  for (const s of storages.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('embedded engine: indexes', () => {
  it('answers _id, equality, compound and range lookups from indexes, not scans', async () => {
    const db = (await open(tmp())).db('idx');
    const c = db.collection<Loose>('books');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.createIndex({ shelf: 1, pos: -1 });
    await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: i, email: `u${i}@x`, shelf: `s${i % 100}`, pos: i })));
    const state = engineOf(db)!.coll('books');
    const examined = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = state.docsExamined;
      await fn();
      return state.docsExamined - before;
    };
    expect(await examined(() => c.findOne({ _id: 1234 }))).toBe(1);
    expect(await examined(() => c.findOne({ email: 'u77@x' }))).toBe(1);
    expect(await examined(() => c.find({ shelf: 's5', pos: 105 }).toArray())).toBe(1);
    expect(await examined(() => c.find({ shelf: 's5' }).toArray())).toBe(20);
    // Ranges and sorts on _id use the implicit _id order (an outbox's "events after my cursor").
    expect(await examined(() => c.find({ _id: { $gte: 10, $lt: 20 } }).toArray())).toBe(10);
    expect((await c.find({ _id: { $gt: 1000 } }).sort({ _id: 1 }).limit(3).toArray()).map((d) => d._id)).toEqual([1001, 1002, 1003]);
    expect(await examined(() => c.find({ _id: { $gt: 1000 } }).sort({ _id: 1 }).limit(3).toArray())).toBe(3);
    expect((await c.find({}).sort({ _id: -1 }).limit(2).toArray()).map((d) => d._id)).toEqual([1999, 1998]);
    await c.insertOne({ _id: 5000, email: 'late@x', shelf: 's0', pos: 0 });
    await c.deleteOne({ _id: 1999 });
    expect((await c.find({ _id: { $gt: 1997 } }).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1998, 5000]);
    expect(await examined(() => c.find({ shelf: { $in: ['s1', 's2'] } }).toArray())).toBe(40);
    expect(await examined(() => c.find({ shelf: { $gte: 's10', $lt: 's11' } }).toArray())).toBe(20);
    expect(await examined(() => c.updateOne({ email: 'u9@x' }, { $set: { pos: -1 } }))).toBe(1);
    expect(await examined(() => c.find({ pos: { $gt: 10 } }).toArray())).toBe(2000); // unindexed: full scan
    // After the update, the old key no longer finds it and the new one does.
    expect(await c.findOne({ shelf: 's9', pos: 9 })).toBeNull();
    expect((await c.findOne({ shelf: 's9', pos: -1 }))!._id).toBe(9);
  });

  it.each([true, false])('returns exactly what a full scan returns (multikey: %s)', async (multikey) => {
    const db = (await open(tmp())).db('idx');
    const indexed = db.collection<Loose>('a');
    const plain = db.collection<Loose>('b');
    await indexed.createIndex({ v: 1 });
    const values: unknown[] = [null, 0, -1, 2.5, 7, 'a', 'b', 'zz', new Date(5), new Date(10), true, [1, 'a'], [0, 10], [], { x: 1 }];
    const pool = multikey ? values : values.filter((v) => !Array.isArray(v));
    const docs = Array.from({ length: 300 }, (_, i) => ({ _id: i, v: pool[(i * 7) % pool.length], w: i }));
    await indexed.insertMany(docs.map((d) => ({ ...d })));
    await plain.insertMany(docs.map((d) => ({ ...d })));
    await indexed.deleteMany({ w: { $lt: 20 } });
    await plain.deleteMany({ w: { $lt: 20 } });
    const filters = [
      { v: 7 }, { v: null }, { v: 'a' }, { v: 1 }, { v: { $in: [0, 'b', null] } }, { v: { $gt: 0 } }, { v: { $gte: -1, $lt: 7 } },
      { v: { $lt: 'b' } }, { v: { $gt: 8, $lt: 9 } }, { v: 0 }, { v: { $gt: new Date(5) } }, { v: { $lte: new Date(10) } }, { v: true }, { v: { $eq: 2.5 } }, { $and: [{ v: { $gte: 0 } }, { w: { $gt: 100 } }] },
    ];
    for (const f of filters) {
      const ids = async (c: typeof plain): Promise<unknown[]> => (await c.find(f as never, { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort();
      expect(await ids(indexed), JSON.stringify(f)).toEqual(await ids(plain));
    }
  });
});

describe('embedded engine: ordered index walks', () => {
  it('answers a sorted keyset page by walking the index: documents examined stay ~page size, not n', async () => {
    const db = (await open(tmp())).db('ord');
    const c = db.collection<Loose>('books');
    await c.createIndex({ status: 1, sortKey: 1 });
    await c.createIndex({ at: -1, _id: -1 });
    await c.insertMany(Array.from({ length: 5000 }, (_, i) => ({ _id: i, status: i % 10 === 0 ? 'DRAFT' : 'PUBLISHED', sortKey: `k${String((i * 7919) % 5000).padStart(5, '0')}`, at: i % 997 })));
    const state = engineOf(db)!.coll('books');
    const examined = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = state.docsExamined;
      await fn();
      return state.docsExamined - before;
    };
    // The first page, a page in the middle (keyset), the last page, and the same reversed.
    const first = await c.find({ status: 'PUBLISHED' }).sort({ sortKey: 1 }).limit(21).toArray();
    expect(first.map((d) => d.sortKey)).toEqual([...first.map((d) => d.sortKey)].sort());
    expect(await examined(() => c.find({ status: 'PUBLISHED' }).sort({ sortKey: 1 }).limit(21).toArray())).toBe(21);
    expect(await examined(() => c.find({ $and: [{ status: 'PUBLISHED' }, { sortKey: { $gt: 'k02500' } }] }).sort({ sortKey: 1 }).limit(21).toArray())).toBe(21);
    expect(await examined(() => c.find({ status: 'PUBLISHED', sortKey: { $lt: 'k02500' } }).sort({ sortKey: -1 }).limit(21).toArray())).toBe(21);
    // A residual filter the index can't answer is tested on walked documents only (1 in 2 match here).
    expect(await examined(() => c.find({ status: 'PUBLISHED', at: { $mod: [2, 0] } }).sort({ sortKey: 1 }).limit(20).toArray())).toBeLessThan(60);
    // Keyset on (at desc, _id desc) through an $or starts at the last key seen.
    expect(await examined(() => c.find({ $or: [{ at: { $lt: 500 } }, { at: 500, _id: { $lt: 2500 } }] }).sort({ at: -1, _id: -1 }).limit(10).toArray())).toBeLessThanOrEqual(15);
    // Without the index walk (the old path) the same page examines every PUBLISHED document.
    plannerOptions.indexedSort = false;
    try {
      expect(await examined(() => c.find({ status: 'PUBLISHED' }).sort({ sortKey: 1 }).limit(21).toArray())).toBe(4500);
    } finally {
      plannerOptions.indexedSort = true;
    }
    // A selective equality on another index still wins over walking the sort index.
    await c.createIndex({ at: 1 }, { name: 'at_asc' });
    expect(await examined(() => c.find({ status: 'PUBLISHED', at: 3 }).sort({ sortKey: 1 }).limit(21).toArray())).toBeLessThanOrEqual(6);
  });

  it('returns exactly what scan-and-sort returns, for random filters, sorts, skips and limits', async () => {
    const db = (await open(tmp())).db('ord');
    const c = db.collection<Loose>('c');
    await c.createIndex({ g: 1, v: 1 });
    await c.createIndex({ v: -1, _id: -1 });
    await c.createIndex({ g: 1, h: -1, v: 1 });
    // Mixed BSON types in v (no arrays: a multikey index is never walked for sort), duplicates, missing fields.
    const values: unknown[] = [null, 0, -1, 2.5, 7, 'a', 'b', 'zz', new Date(5), new Date(10), true, false, { x: 1 }];
    const docs = Array.from({ length: 400 }, (_, i) => {
      const d: Loose = { _id: i, g: `g${i % 4}`, h: i % 5, v: values[(i * 7) % values.length] };
      if (i % 17 === 0) delete d.v;
      return d;
    });
    await c.insertMany(docs);
    await c.deleteMany({ _id: { $in: [3, 30, 300] } });
    await c.updateMany({ h: 2 }, { $set: { v: 'mid' } });
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const filters: Loose[] = [
      {}, { g: 'g1' }, { g: 'g2', v: { $gt: 0 } }, { v: { $gte: 'a', $lt: 'zz' } }, { g: 'g3', h: 4 }, { g: 'g0', h: { $lte: 2 } },
      { v: { $lt: new Date(10) } }, { $and: [{ g: 'g1' }, { v: { $gt: -5 } }] }, { $or: [{ v: { $gt: 2 } }, { v: 2.5, _id: { $gt: 100 } }] }, { g: 'g2', v: null },
    ];
    const sorts: Record<string, 1 | -1>[] = [{ v: 1 }, { v: -1 }, { v: 1, _id: 1 }, { v: -1, _id: -1 }, { h: -1, v: 1 }, { h: 1, v: -1 }, { g: 1, v: 1 }, { _id: -1 }, { v: 1, _id: -1 }];
    for (let round = 0; round < 120; round++) {
      const f = filters[rnd(filters.length)]!;
      // A unique total order (ties broken by _id) so both paths must agree exactly.
      const sort = { ...sorts[rnd(sorts.length)]! };
      if (!('_id' in sort)) sort._id = rnd(2) ? 1 : -1;
      const skip = rnd(3) === 0 ? rnd(20) : 0;
      const limit = rnd(4) === 0 ? 0 : 1 + rnd(30);
      const run = async (): Promise<unknown[]> => (await c.find(f as never).sort(sort).skip(skip).limit(limit).toArray()).map((d) => d._id);
      const walked = await run();
      plannerOptions.indexedSort = false;
      const scanned = await run().finally(() => (plannerOptions.indexedSort = true));
      expect(walked, JSON.stringify({ f, sort, skip, limit })).toEqual(scanned);
    }
  });
});

describe('embedded engine: durability', () => {
  it('ignores a torn last journal line and keeps appending cleanly after it', async () => {
    const dir = tmp();
    const s1 = await open(dir);
    await s1.db('j').collection<Loose>('c').insertMany([{ _id: 1 }, { _id: 2 }]);
    await s1.close();
    const journal = path.join(dir, 'j', 'journal.log');
    fs.appendFileSync(journal, '{"o":[["p","c",{"_id":3,"half'); // crash mid-append
    const s2 = await open(dir);
    const c2 = s2.db('j').collection<Loose>('c');
    expect(await c2.countDocuments()).toBe(2);
    await c2.insertOne({ _id: 4 });
    await s2.close();
    const s3 = await open(dir);
    expect((await s3.db('j').collection<Loose>('c').find({}).toArray()).map((d) => d._id)).toEqual([1, 2, 4]);
  });

  it('refuses to open a journal damaged in the middle instead of dropping data', async () => {
    const dir = tmp();
    const s1 = await open(dir);
    const c = s1.db('j').collection<Loose>('c');
    await c.insertOne({ _id: 1 });
    await c.insertOne({ _id: 2 });
    await s1.close();
    const journal = path.join(dir, 'j', 'journal.log');
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    lines[0] = 'garbage';
    fs.writeFileSync(journal, lines.join('\n'));
    const s2 = await open(dir);
    expect(() => s2.db('j')).toThrow(/damaged/);
  });

  it('compacts the journal into a snapshot and recovers from both', async () => {
    const dir = tmp();
    const s1 = await open(dir, 4096);
    const c = s1.db('k').collection<Loose>('c');
    await c.createIndex({ n: 1 }, { unique: true });
    for (let i = 0; i < 200; i++) await c.insertOne({ _id: i, n: i, at: new Date(i) });
    await c.updateMany({ n: { $lt: 10 } }, { $inc: { n: 1000 } });
    await c.deleteMany({ n: { $gte: 190, $lt: 200 } });
    // Compaction runs in the background: let it finish.
    await engineOf(s1.db('k'))!.compactionIdle();
    const journalSize = fs.statSync(path.join(dir, 'k', 'journal.log')).size;
    expect(journalSize).toBeLessThan(8192);
    expect(fs.existsSync(path.join(dir, 'k', 'snapshot.jsonl'))).toBe(true);
    await s1.close();
    const s2 = await open(dir);
    const c2 = s2.db('k').collection<Loose>('c');
    expect(await c2.countDocuments()).toBe(190);
    expect((await c2.findOne({ _id: 3 }))!).toEqual({ _id: 3, n: 1003, at: new Date(3) });
    await expect(c2.insertOne({ _id: 999, n: 1003, at: new Date() })).rejects.toMatchObject({ code: 11000 });
  });

  it('locks the data directory against a live process and takes over a dead one', async () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'l'));
    const lock = path.join(dir, 'l', 'LOCK');
    fs.writeFileSync(lock, String(process.ppid)); // a live process that is not us
    const s1 = await open(dir);
    expect(() => s1.db('l')).toThrow(/in use by process/);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(lock, dead);
    const db = s1.db('l');
    await db.collection<Loose>('c').insertOne({ _id: 1 });
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(process.pid));
    await s1.close();
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('shares one engine between storages opened on the same directory in one process', async () => {
    const dir = tmp();
    const a = (await open(dir)).db('s').collection<Loose>('c');
    const b = (await open(dir)).db('s').collection<Loose>('c');
    await a.insertOne({ _id: 1 });
    expect(await b.findOne({ _id: 1 })).toEqual({ _id: 1 });
  });
});

describe('embedded engine: transactions and input', () => {
  it('makes other writers wait for an open transaction, while writes inside it proceed', async () => {
    const db = (await open(tmp())).db('t');
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 1, n: 0 });
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await t.collection<Loose>('c').updateOne({ _id: 1 }, { $set: { n: 1 } });
      await c.insertOne({ _id: 2 }); // same async context, outside `t`: runs now, independently
      order.push('tx-wrote');
      await gate;
      order.push('tx-done');
    });
    const outside = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      const p = c.updateOne({ _id: 1 }, { $inc: { n: 10 } }).then(() => order.push('outside'));
      await new Promise((r) => setTimeout(r, 20));
      release();
      await p;
    })();
    await Promise.all([tx, outside]);
    expect(order).toEqual(['tx-wrote', 'tx-done', 'outside']);
    expect((await c.findOne({ _id: 1 }))!.n).toBe(11);
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2 });
  });

  it('tracks the transaction context again after one closed (nested joins, leftovers from a closed one wait)', async () => {
    const db = (await open(tmp())).db('t2');
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 1, n: 0 });
    let leftover!: Promise<unknown>;
    let startLeftover!: () => void;
    await db.transaction(async (t) => {
      await t.collection<Loose>('c').updateOne({ _id: 1 }, { $set: { n: 1 } });
      // Started inside, run after it closed: a plain write, never part of a later transaction.
      leftover = new Promise<void>((r) => (startLeftover = r)).then(() => c.updateOne({ _id: 1 }, { $inc: { n: 100 } }));
    });
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const second = db.transaction(async (t) => {
      // Nested: joins this one (its context is tracked again), so it does not wait for itself.
      await db.transaction(async (inner) => inner.collection<Loose>('c').updateOne({ _id: 1 }, { $inc: { n: 10 } }));
      startLeftover();
      await gate;
      order.push('second-done');
      expect((await t.collection<Loose>('c').findOne({ _id: 1 }))!.n).toBe(11);
    });
    await new Promise((r) => setTimeout(r, 30));
    order.push('gate');
    release();
    await Promise.all([second, leftover.then(() => order.push('leftover'))]);
    expect(order).toEqual(['gate', 'second-done', 'leftover']);
    expect((await c.findOne({ _id: 1 }))!.n).toBe(111);
  });

  it('rejects malformed filters, updates and names with typed errors and leaves data intact', async () => {
    const db = (await open(tmp())).db('h');
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 1, a: 1 });
    await expect(c.findOne({ a: { $bogus: 1 } })).rejects.toMatchObject({ code: 2 });
    await expect(c.updateOne({ _id: 1 }, { $set: {} as never, $nope: 1 } as never)).rejects.toMatchObject({ code: 2 });
    await expect(c.insertOne({ _id: [1, 2] } as never)).rejects.toMatchObject({ code: 2 });
    await expect(c.insertOne({ big: 'x'.repeat(17 * 1024 * 1024) })).rejects.toMatchObject({ code: 10334 });
    expect(() => db.collection<Loose>('bad$name')).toThrow();
    await expect(openStorage({ dataDir: tmp() }).then((s) => s.db('../escape'))).rejects.toThrow(/invalid database name/);
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, a: 1 }]);
  });
});
