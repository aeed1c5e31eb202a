import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../test/kit/tempDir.js';
import { LeaseManager } from './leases.js';
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
});
