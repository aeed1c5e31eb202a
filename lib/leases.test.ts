import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../test/kit/tempDir.js';
import { workerIdentity } from './instance.js';
import { LeaseFields, LeaseManager } from './leases.js';
import { openStorage, type Storage } from './storage/index.js';

let storage: Storage;
let dir: string;
beforeEach(async () => {
  dir = tempDataDir();
  storage = await openStorage({ dataDir: dir });
});
afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('leases (the lock service)', () => {
  it('lets exactly one of many contenders hold a lease', async () => {
    const managers = Array.from({ length: 10 }, () => new LeaseManager(storage.db('locks')));
    const results = await Promise.all(managers.map((m) => m.tryAcquire('book:1', { ttlMs: 5_000 })));
    const held = results.filter((l) => l !== null);
    expect(held).toHaveLength(1);
    await Promise.all(held.map((l) => l!.release()));
  });

  it('is free again after release, and re-entrant for its owner', async () => {
    const a = new LeaseManager(storage.db('locks'));
    const b = new LeaseManager(storage.db('locks'));
    const lease = await a.tryAcquire('job', { ttlMs: 5_000 });
    expect(lease).not.toBeNull();
    expect(await a.tryAcquire('job', { ttlMs: 5_000, autoRenew: false })).not.toBeNull();
    expect(await b.tryAcquire('job')).toBeNull();
    await lease!.release();
    const taken = await b.tryAcquire('job');
    expect(taken).not.toBeNull();
    await taken!.release();
  });

  it('passes to another worker when the holder stops renewing (a crash), and the old holder learns it lost it', async () => {
    const dead = new LeaseManager(storage.db('locks'));
    const alive = new LeaseManager(storage.db('locks'));
    const stale = await dead.tryAcquire('repair:book-9', { ttlMs: 150, autoRenew: false });
    expect(await alive.tryAcquire('repair:book-9', { ttlMs: 150 })).toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    const fresh = await alive.tryAcquire('repair:book-9', { ttlMs: 5_000 });
    expect(fresh).not.toBeNull();
    expect(await stale!.renew()).toBe(false);
    expect(stale!.signal.aborted).toBe(true);
    await fresh!.release();
  });

  it('keeps a lease alive while its holder renews', async () => {
    const holder = new LeaseManager(storage.db('locks'));
    const other = new LeaseManager(storage.db('locks'));
    const lease = await holder.tryAcquire('long-job', { ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 700));
    expect(await other.tryAcquire('long-job', { ttlMs: 300 })).toBeNull();
    expect(lease!.signal.aborted).toBe(false);
    await lease!.release();
  });

  it('keeps the same rule as lease fields on a work document: one claimant, fenced writes, taken back by a restarted instance', async () => {
    interface Job { _id: string; owner: string | null; until: Date | null; done?: boolean }
    const jobs = storage.db('work').collection<Job>('jobs');
    const lease = new LeaseFields<Job>('owner', 'until');
    await jobs.insertOne({ _id: 'j1', owner: null, until: null });
    const claim = (owner: string, now = new Date()) =>
      jobs.findOneAndUpdate({ _id: 'j1', $or: lease.free(now) }, { $set: lease.take(owner, now, 60_000) }, { returnDocument: 'after' });
    expect(await claim('a#1')).toMatchObject({ owner: 'a#1' });
    expect(await claim('b#1')).toBeNull();
    expect((await jobs.updateOne({ _id: 'j1', ...lease.heldBy('b#1') }, { $set: { done: true } })).matchedCount).toBe(0);
    const held = (await jobs.findOne({ _id: 'j1' }))!;
    expect(lease.expired(held, new Date())).toBe(false);
    expect(lease.expired(held, new Date(Date.now() + 61_000))).toBe(true);
    expect(await claim('b#1', new Date(Date.now() + 61_000))).toMatchObject({ owner: 'b#1' });

    const dir2 = tempDataDir();
    try {
      const before = workerIdentity({ instanceId: 'inst', dataDir: dir2 });
      await jobs.updateOne({ _id: 'j1' }, { $set: lease.take(before.owner, new Date(), 60_000) });
      expect(await lease.heldByPreviousSelf(jobs, before)).toEqual([]); // still running: not "previous"
      before.release();
      const after = workerIdentity({ instanceId: 'inst', dataDir: dir2 });
      expect((await lease.heldByPreviousSelf(jobs, after)).map((j) => j._id)).toEqual(['j1']);
      expect(await lease.heldByPreviousSelf(jobs, workerIdentity({ instanceId: 'other', dataDir: dir2 }))).toEqual([]);
      after.release();
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
