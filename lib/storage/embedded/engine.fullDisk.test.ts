/**
 * The embedded engine on a disk that fills up (a fake disk through the journal's file seam): a
 * failed write is refused with the storage-full error and is never visible, documents and indexes
 * alike, for single writes, group-committed batches and transactions; writes resume by themselves
 * when space returns, and the journal a restart reads holds exactly the acknowledged writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStorageFullError, openStorage, type FolioDb, type ObjectId, type Storage } from '../index.js';
import { engineOf, openEmbeddedStorage } from './index.js';
import { FakeDisk } from '../../../test/kit/fakeDisk.js';

type Loose = { _id?: string | number | ObjectId; [key: string]: any };

const dirs: string[] = [];
const storages: Storage[] = [];
afterEach(async () => {
  for (const s of storages.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(compactAtBytes?: number): { dir: string; disk: FakeDisk; db: FolioDb; storage: Storage } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-full-'));
  dirs.push(dir);
  const disk = new FakeDisk();
  const storage = openEmbeddedStorage(dir, { io: disk, ...(compactAtBytes ? { compactAtBytes } : {}) });
  storages.push(storage);
  return { dir, disk, db: storage.db('full'), storage };
}

async function reopen(dir: string): Promise<FolioDb> {
  const storage = await openStorage({ dataDir: dir });
  storages.push(storage);
  return storage.db('full');
}

const storageFull = expect.objectContaining({ code: 14031, codeName: 'OutOfDiskSpace' });

describe('embedded engine on a full disk', () => {
  it('refuses a write with OutOfDiskSpace and leaves no trace of it: document, update or unique index entry', async () => {
    const { disk, db } = setup();
    const users = db.collection<Loose>('users');
    await users.createIndex({ name: 1 }, { unique: true });
    await users.insertOne({ _id: 1, name: 'ada', bio: 'old' });
    disk.fill();
    const failed = await users.updateOne({ _id: 1 }, { $set: { bio: 'new' } }).catch((e: unknown) => e);
    expect(failed).toEqual(storageFull);
    expect(isStorageFullError(failed)).toBe(true);
    expect((await users.findOne({ _id: 1 }))!.bio).toBe('old');
    await expect(users.insertOne({ _id: 2, name: 'grace' })).rejects.toEqual(storageFull);
    expect(await users.countDocuments()).toBe(1);
    expect(await users.findOne({ name: 'grace' })).toBeNull();
    await expect(users.deleteOne({ _id: 1 })).rejects.toEqual(storageFull);
    expect(await users.findOne({ name: 'ada' })).toMatchObject({ _id: 1 });

    disk.makeRoom();
    // The unique entry of the failed insert is gone: the same name can be taken by another id.
    await users.insertOne({ _id: 3, name: 'grace' });
    expect((await users.find({}).sort({ _id: 1 }).toArray()).map((u) => u._id)).toEqual([1, 3]);
  });

  it('fails every write of a group-committed batch and those queued behind it, restoring memory exactly', async () => {
    const { disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 'n', v: 0 });
    await c.createIndex({ tag: 1 });
    disk.fill(10); // the batch's first bytes fit, then ENOSPC: a torn tail in the file
    const release = disk.pause();
    const batch = [
      ...Array.from({ length: 5 }, () => c.updateOne({ _id: 'n' }, { $inc: { v: 1 } })),
      ...Array.from({ length: 5 }, (_, i) => c.insertOne({ _id: `d${i}`, tag: 't' })),
    ].map((p) => p.catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 10)); // the batch is now at the (slow) disk
    // Issued while the batch is in flight, building on its not yet durable $incs.
    const queued = c.updateOne({ _id: 'n' }, { $inc: { v: 100 } }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    let dirty: unknown;
    try {
      // Readers never see writes before they are durable (group commit: engine.ts "Visibility") ...
      dirty = (await c.findOne({ _id: 'n' }))!.v;
    } finally {
      release();
    }
    expect(dirty).toBe(0);
    const outcomes = await Promise.all([...batch, queued]);
    expect(outcomes.every((e) => isStorageFullError(e))).toBe(true);
    // ... but by the time any writer hears of the failure, none of it is visible.
    expect(await c.findOne({ _id: 'n' })).toEqual({ _id: 'n', v: 0 });
    expect(await c.find({ tag: 't' }).toArray()).toEqual([]);
    expect(await c.countDocuments()).toBe(1);
  });

  it('undoes an open transaction whose writes may build on a failed one, and fails its commit', async () => {
    const { disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 1, v: 0 });
    disk.fill();
    const tx = db
      .transaction(async (t) => {
        await t.collection<Loose>('c').insertOne({ _id: 2, v: 2 });
        // A write outside the transaction (made from inside it) fails: the transaction is undone.
        expect(await c.updateOne({ _id: 1 }, { $set: { v: 1 } }).catch((e: unknown) => e)).toEqual(storageFull);
        expect(await c.findOne({ _id: 2 })).toBeNull();
        await t.collection<Loose>('c').insertOne({ _id: 3, v: 3 });
      })
      .catch((e: unknown) => e);
    expect(await tx).toEqual(storageFull);
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, v: 0 }]);

    // A transaction whose commit record cannot be written leaves nothing either.
    await expect(
      db.transaction(async (t) => {
        await t.collection<Loose>('c').updateOne({ _id: 1 }, { $set: { v: 9 } });
        await t.collection<Loose>('c').insertOne({ _id: 4 });
      }),
    ).rejects.toEqual(storageFull);
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, v: 0 }]);
  });

  it('rolls back a createIndex that could not be journaled', async () => {
    const { disk, db } = setup();
    const c = db.collection<Loose>('c');
    await c.insertMany([{ _id: 1, k: 'a' }, { _id: 2, k: 'a' }]);
    disk.fill();
    await expect(c.createIndex({ k: 1 })).rejects.toEqual(storageFull);
    disk.makeRoom();
    // Had the index stayed in memory, this would be an IndexOptionsConflict.
    await c.createIndex({ k: 1 }, { unique: false, sparse: true });
    await c.insertOne({ _id: 3, k: 'a' });
  });

  it('writes again without a restart once space returns, and a restart loads exactly the acknowledged writes', async () => {
    const { dir, disk, db, storage } = setup();
    const c = db.collection<Loose>('c');
    await c.insertOne({ _id: 'before', n: 1 });
    disk.fill(7); // part of the next record reaches the file
    await expect(c.insertOne({ _id: 'lost-1', n: 2 })).rejects.toEqual(storageFull);
    await expect(c.insertOne({ _id: 'lost-2', n: 3 })).rejects.toEqual(storageFull);
    expect(await db.health()).toEqual({ writable: false, reason: 'OutOfDiskSpace' });

    disk.makeRoom();
    expect(await db.health()).toEqual({ writable: true });
    await c.insertOne({ _id: 'after', n: 4 });
    disk.failNextSync('EIO'); // written, but not known to be durable: must not survive either
    await expect(c.insertOne({ _id: 'unsynced', n: 5 })).rejects.toMatchObject({ code: 'EIO' });
    await c.updateOne({ _id: 'before' }, { $inc: { n: 10 } });
    expect(disk.failures).toBeGreaterThanOrEqual(3);
    await storage.close();

    // Every line is whole (the torn tail was cut before the next append), and replay gives the
    // acknowledged writes only.
    const journal = fs.readFileSync(path.join(dir, 'full', 'journal.log'), 'utf8');
    expect(journal.endsWith('\n')).toBe(true);
    // (Group commits are framed: a `#<bytes>:<crc32>` header line, then the batch's record lines.)
    for (const line of journal.trimEnd().split('\n')) {
      if (line.startsWith('#')) expect(line).toMatch(/^#\d+:[0-9a-f]{8}$/);
      else expect(() => JSON.parse(line)).not.toThrow();
    }
    const again = (await reopen(dir)).collection<Loose>('c');
    expect(await again.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'after', n: 4 },
      { _id: 'before', n: 11 },
    ]);
  });

  it('survives a compaction that fails for lack of space and compacts later', async () => {
    const { dir, disk, db, storage } = setup(2048);
    const c = db.collection<Loose>('c');
    for (let i = 0; i < 20; i++) await c.insertOne({ _id: i, pad: 'x'.repeat(100) });
    // Compaction runs in the background: let it finish.
    await engineOf(db)!.compactionIdle();
    expect(fs.existsSync(path.join(dir, 'full', 'snapshot.jsonl'))).toBe(true);
    // Room for a few appends but not for a snapshot rewrite: compaction fails, appends go on.
    disk.fill(1500);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => i + 20).map(async (i) => c.insertOne({ _id: i, pad: 'y'.repeat(100) })));
    const acked = results.filter((r) => r.status === 'fulfilled').length;
    expect(acked).toBeGreaterThan(0);
    disk.makeRoom();
    await c.insertOne({ _id: 'last' });
    const count = await c.countDocuments();
    expect(count).toBe(20 + acked + 1);
    await storage.close();
    expect(await (await reopen(dir)).collection<Loose>('c').countDocuments()).toBe(count);
  });
});
