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
import { engineOf } from './index.js';

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
