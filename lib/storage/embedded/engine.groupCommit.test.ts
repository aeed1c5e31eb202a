/**
 * Group commit in the embedded engine: concurrent transactions share one write + fdatasync, the
 * next transaction applies while the previous batch syncs, nothing is visible to readers before it
 * is durable (a transaction sees its own and earlier queued writes), a failed batch takes back
 * every pipelined transaction built on it, and a torn batch is whole or absent after a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStorageFullError, openStorage, type FolioDb, type ObjectId, type Storage } from '../index.js';
import { FakeDisk } from '../../../test/kit/fakeDisk.js';
import { Registry } from 'prom-client';
import { storeCommitMetrics } from '../../metrics.js';
import { commitObservableOf } from '../index.js';
import type { CommitMode } from './engine.js';
import { engineOf, openEmbeddedStorage } from './index.js';
import { encodeOps, frame } from './journal.js';

type Loose = { _id?: string | number | ObjectId; [key: string]: any };

const dirs: string[] = [];
const storages: Storage[] = [];
afterEach(async () => {
  for (const s of storages.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(commit?: CommitMode): { dir: string; disk: FakeDisk; db: FolioDb } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-gc-'));
  dirs.push(dir);
  const disk = new FakeDisk();
  const storage = openEmbeddedStorage(dir, { io: disk, ...(commit ? { commit } : {}) });
  storages.push(storage);
  return { dir, disk, db: storage.db('gc') };
}

async function reopen(dir: string): Promise<FolioDb> {
  const storage = await openStorage({ dataDir: dir });
  storages.push(storage);
  return storage.db('gc');
}

/** An outbox-style transaction: a sequence `$inc` and an insert keyed by the new value. */
function appendEvent(db: FolioDb, payload: string): Promise<number> {
  return db.transaction(async (tx) => {
    const counter = await tx.collection<Loose>('seq').findOneAndUpdate({ _id: 'outbox' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    await tx.collection<Loose>('events').insertOne({ _id: counter!.seq, payload });
    return counter!.seq as number;
  });
}

/** Resolves once `cond` holds (polling on the event loop, no fixed sleeps). */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('embedded engine: group commit', () => {
  it('commits concurrent transactions in shared batches: far fewer fdatasyncs than transactions', async () => {
    const { dir, disk, db } = setup();
    const engine = engineOf(db)!;
    const release = disk.pause(); // the first commit's batch stays at the disk while the rest queue
    const seqs = Array.from({ length: 50 }, (_, i) => appendEvent(db, `e${i}`));
    // Pipelined: all 50 transactions apply and queue while the first batch is in flight.
    await until(() => engine.queuedCommits === 50);
    expect(engine.commitStats.fsyncs).toBe(0);
    release();
    const got = await Promise.all(seqs);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stats = engine.commitStats;
    expect(stats.records).toBe(50);
    expect(stats.fsyncs).toBeLessThanOrEqual(3);
    expect(stats.largestBatch).toBeGreaterThanOrEqual(40);
    expect(await db.collection('events').countDocuments()).toBe(50);
    // Every acknowledged transaction survives a restart.
    await storages.splice(0)[0]!.close();
    const again = await reopen(dir);
    expect(await again.collection('events').countDocuments()).toBe(50);
    expect(await again.collection<Loose>('seq').findOne({ _id: 'outbox' })).toEqual({ _id: 'outbox', seq: 50 });
  });

  it('reports batch sizes and fsyncs as metrics', async () => {
    const { disk, db } = setup();
    const registry = new Registry();
    const stop = storeCommitMetrics(registry, 'gc', commitObservableOf(db));
    const release = disk.pause();
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => appendEvent(db, `e${i}`)));
    await until(() => engineOf(db)!.queuedCommits === 10);
    release();
    await all;
    stop();
    const text = await registry.metrics();
    const fsyncs = Number(/folio_store_fsyncs_total\{db="gc"\} (\d+)/.exec(text)?.[1]);
    expect(fsyncs).toBe(engineOf(db)!.commitStats.fsyncs);
    expect(fsyncs).toBeLessThanOrEqual(3);
    expect(text).toMatch(/folio_store_commit_batch_records_sum\{db="gc"\} 10\b/);
    expect(text).toMatch(/folio_store_commit_batch_records_count\{db="gc"\} \d/);
  });

  it('serial mode holds the write lock until durable; single mode syncs once per record', async () => {
    for (const mode of ['serial', 'single'] as const) {
      const { db } = setup(mode);
      const engine = engineOf(db)!;
      await Promise.all(Array.from({ length: 20 }, (_, i) => appendEvent(db, `e${i}`)));
      expect(engine.commitStats.records).toBe(20);
      // Serial transactions commit one at a time: one record per batch either way.
      expect(engine.commitStats.fsyncs).toBe(20);
      const writes = Array.from({ length: 20 }, (_, i) => db.collection<Loose>('plain').insertOne({ _id: i }));
      await Promise.all(writes);
      if (mode === 'single') expect(engine.commitStats.fsyncs).toBe(40);
      else expect(engine.commitStats.fsyncs).toBeLessThan(40); // plain writes in one tick share a batch
    }
  });

  it('shows nothing to readers before it is durable; a later transaction builds on it', async () => {
    const { disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.createIndex({ tag: 1 });
    await c.insertOne({ _id: 'a', tag: 'old', n: 1 });
    const release = disk.pause();
    const plain = c.insertOne({ _id: 'p', tag: 'new', n: 100 }); // at the (held) disk first
    const first = db.transaction(async (tx) => {
      await tx.collection<Loose>('c').updateOne({ _id: 'a' }, { $set: { tag: 'new' }, $inc: { n: 1 } });
      await tx.collection<Loose>('c').insertOne({ _id: 'b', tag: 'new', n: 10 });
      await tx.collection<Loose>('c').deleteOne({ _id: 'nothing' });
    });
    // The second transaction runs while the first is queued: it sees the first's writes.
    const seenInside = db.transaction(async (tx) => {
      const docs = await tx.collection<Loose>('c').find({ tag: 'new' }).sort({ _id: 1 }).toArray();
      await tx.collection<Loose>('c').updateOne({ _id: 'b' }, { $inc: { n: 1 } });
      return docs.map((d) => `${d._id}:${d.n}`);
    }).then(
      (v) => v,
      (e: unknown) => e,
    );
    // (the second one resolves only after its batch is durable: read it after release)
    try {
      // Outside: the durable state, through the index and through a scan alike.
      expect(await c.find({ tag: 'new' }).toArray()).toEqual([]);
      expect((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => `${d._id}:${d.tag}:${d.n}`)).toEqual(['a:old:1']);
      expect(await c.findOne({ tag: 'old' })).toEqual({ _id: 'a', tag: 'old', n: 1 });
      expect(await c.countDocuments({})).toBe(1);
      expect(await c.aggregate([{ $match: { tag: 'old' } }, { $count: 'n' }]).toArray()).toEqual([{ n: 1 }]);
    } finally {
      release();
    }
    await first;
    await plain;
    expect(await seenInside).toEqual(['a:2', 'b:10', 'p:100']);
    expect((await c.find({ tag: 'new' }).sort({ _id: 1 }).toArray()).map((d) => `${d._id}:${d.n}`)).toEqual(['a:2', 'b:11', 'p:100']);
    expect(await c.findOne({ tag: 'old' })).toBeNull();
  });

  it('a durable read with changes in flight still walks the index: the durable page, in order, O(page)', async () => {
    const { disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.createIndex({ rank: 1 });
    await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: i, rank: i })));
    const state = engineOf(db)!.coll('c');
    const release = disk.pause();
    const changes = Promise.all([
      c.updateOne({ _id: 10 }, { $set: { rank: 100_000 } }), // moves to the end in memory only
      c.deleteOne({ _id: 1003 }),
      c.insertOne({ _id: 5000, rank: -1 }), // would come first in memory
    ]);
    try {
      await until(() => state.shadow.size === 3);
      const ids = async (query: Promise<Loose[]>): Promise<unknown[]> => (await query).map((d) => d._id);
      const before = state.docsExamined;
      expect(await ids(c.find({ _id: { $gt: 1000 } }).sort({ _id: 1 }).limit(5).toArray())).toEqual([1001, 1002, 1003, 1004, 1005]);
      expect(await ids(c.find({}).sort({ rank: 1 }).limit(3).toArray())).toEqual([0, 1, 2]);
      expect(await ids(c.find({ rank: { $gte: 9 } }).sort({ rank: 1 }).limit(3).toArray())).toEqual([9, 10, 11]);
      expect(await ids(c.find({}).sort({ rank: -1 }).skip(1).limit(2).toArray())).toEqual([1998, 1997]);
      // A scan would examine the 2,000 documents for each read (the outbox under steady writes).
      // (the _id range walks the implicit _id order; rank walks its index)
      expect(state.docsExamined - before).toBeLessThan(60);
    } finally {
      release();
    }
    await changes;
    expect((await c.find({}).sort({ rank: -1 }).limit(1).toArray())[0]).toEqual({ _id: 10, rank: 100_000 });
  });

  it('a failed batch takes back every pipelined transaction built on it, and the open one', async () => {
    const { dir, disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 1, v: 0 });
    const release = disk.pause();
    disk.fill(5); // the batch's first bytes fit, then ENOSPC
    const committed = [1, 2, 3].map((i) =>
      db.transaction(async (tx) => {
        await tx.collection<Loose>('c').updateOne({ _id: 1 }, { $inc: { v: i } });
        await tx.collection<Loose>('c').insertOne({ _id: 10 + i });
      }).catch((e: unknown) => e),
    );
    // Another one is open (waiting on something else) when the batch fails.
    let letGo!: () => void;
    const gate = new Promise<void>((r) => (letGo = r));
    const open = db.transaction(async (tx) => {
      await tx.collection<Loose>('c').updateOne({ _id: 1 }, { $inc: { v: 100 } });
      await gate;
      await tx.collection<Loose>('c').insertOne({ _id: 99 });
    }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    release();
    const outcomes = await Promise.all(committed);
    expect(outcomes.every((e) => isStorageFullError(e))).toBe(true);
    letGo();
    expect(isStorageFullError(await open)).toBe(true);
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, v: 0 }]);
    disk.makeRoom();
    await c.updateOne({ _id: 1 }, { $inc: { v: 7 } });
    await storages.splice(0)[0]!.close();
    const again = await reopen(dir);
    expect(await again.collection('c').find({}).toArray()).toEqual([{ _id: 1, v: 7 }]);
  });
});

describe('embedded engine: torn batches', () => {
  function journalWith(dir: string, body: Buffer): void {
    fs.mkdirSync(path.join(dir, 'gc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'gc', 'journal.log'), body);
  }

  const rec = (id: number): string => encodeOps([['p', 'c', { _id: id }]]);

  it('drops a torn last batch whole, even when some of its records are complete lines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-torn-'));
    dirs.push(dir);
    const whole = frame(rec(1) + rec(2));
    const torn = frame(rec(3) + rec(4) + rec(5));
    // The crash left the header, two whole records and part of the third.
    journalWith(dir, Buffer.concat([whole, torn.subarray(0, torn.length - 6)]));
    const db = await reopen(dir);
    expect((await db.collection('c').find({}).toArray()).map((d) => d._id)).toEqual([1, 2]);
    await db.collection<Loose>('c').insertOne({ _id: 6 });
    await storages.splice(0)[0]!.close();
    const again = await reopen(dir);
    expect((await again.collection('c').find({}).toArray()).map((d) => d._id)).toEqual([1, 2, 6]);
  });

  it('drops a last batch whose bytes are all there but wrong (checksum), and refuses one in the middle', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-torn-'));
    dirs.push(dir);
    const good = frame(rec(1));
    const bad = Buffer.from(frame(rec(2) + rec(3)));
    bad[bad.length - 4] = 0x20; // a block that never reached the disk (the length is right)
    journalWith(dir, Buffer.concat([good, bad]));
    const db = await reopen(dir);
    expect((await db.collection('c').find({}).toArray()).map((d) => d._id)).toEqual([1]);
    await storages.splice(0)[0]!.close();

    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-torn-'));
    dirs.push(dir2);
    journalWith(dir2, Buffer.concat([good, bad, frame(rec(4))]));
    const storage = await openStorage({ dataDir: dir2 });
    storages.push(storage);
    expect(() => storage.db('gc')).toThrow(/damaged/);
  });

  it('reads files a chunk at a time (files over 2 GiB): any chunk size gives the same state, torn tail and damage included', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => rec(i));
    const good = Buffer.concat([Buffer.from(lines[0]! + lines[1]!), frame(lines[2]! + lines[3]! + lines[4]!), frame(lines[5]!), Buffer.from(lines[6]!), frame(lines.slice(7, 10).join(''))]);
    const torn = frame(lines[10]! + lines[11]!).subarray(0, -3);
    const bad = Buffer.from(frame(lines[10]!));
    bad[bad.length - 4] = 0x20;
    const idsAfterOpen = async (body: Buffer, chunk: number): Promise<unknown> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-chunks-'));
      dirs.push(dir);
      journalWith(dir, body);
      const storage = openEmbeddedStorage(dir, { replayChunkBytes: chunk });
      storages.push(storage);
      try {
        return (await storage.db('gc').collection('c').find({}).toArray()).map((d) => d._id);
      } catch (error) {
        return (error as Error).message.replace(/ \(.*/, '');
      }
    };
    const expected = Array.from({ length: 10 }, (_, i) => i);
    for (const chunk of [1, 5, 17, 64, 1024, 64 * 1024 * 1024]) {
      expect(await idsAfterOpen(good, chunk)).toEqual(expected);
      expect(await idsAfterOpen(Buffer.concat([good, torn]), chunk)).toEqual(expected);
      expect(await idsAfterOpen(Buffer.concat([good, bad]), chunk)).toEqual(expected);
      expect(await idsAfterOpen(Buffer.concat([bad, good]), chunk)).toBe(`storage: journal is damaged at byte 0`);
    }
  });

  it('still reads unframed record lines (journals written before group-commit framing)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-torn-'));
    dirs.push(dir);
    journalWith(dir, Buffer.concat([Buffer.from(rec(1) + rec(2)), frame(rec(3))]));
    const db = await reopen(dir);
    expect((await db.collection('c').find({}).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });
});
