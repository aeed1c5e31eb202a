/**
 * Outbox retention: events older than the window go, in slices, but never past the cursor of a
 * consumer seen within the window; the count bound goes further and the consumer is told (feed's
 * `oldest`, its onCursorExpired); `oldestKeptSeq()` says what a catch-up can still read. And the
 * feed's reader leaves nothing behind on the long-lived signal a consumer reads it under.
 */
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../test/kit/eventually.js';
import { tempDataDir } from '../test/kit/tempDir.js';
import { EventConsumer, Outbox, OutboxRetention, readFeed, type FolioEvent } from './events.js';
import { dispatch } from './http/routes.js';
import { RequestVerifier } from './signing.js';
import { LeaseManager } from './leases.js';
import { createLogger } from './logger.js';
import { openStorage, type FolioDb, type Storage } from './storage/index.js';

const secret = 'retention-test-secret-retention-test-0000';
const logger = createLogger('retention-test', 'silent');
const HOUR = 3_600_000;

let storage: Storage;
let dir: string;
let db: FolioDb;
let outbox: Outbox;
let server: Server;
let feedUrl: string;

beforeEach(async () => {
  dir = tempDataDir();
  storage = await openStorage({ dataDir: dir });
  db = storage.db('producer');
  outbox = new Outbox(db);
  const routes = [outbox.route()];
  const verifier = new RequestVerifier({ secret, audience: 'producer' });
  server = createServer((req, res) => void dispatch(routes, req, res, verifier));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

async function emitMany(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await outbox.publish(async (_tx, emit) => void (await emit('Tick', { i })));
}

/** Backdates events `from..to` (as if written `hoursAgo` ago). */
async function age(from: number, to: number, hoursAgo: number, now: number): Promise<void> {
  await db.collection<{ _id: number; createdAt: Date }>('outbox').updateMany({ _id: { $gte: from, $lte: to } }, { $set: { createdAt: new Date(now - hoursAgo * HOUR) } });
}

const feed = (after: number, consumer?: string) =>
  readFeed({ secret, audience: 'producer', baseUrl: feedUrl }, after, { limit: 500, waitMs: 0, ...(consumer ? { consumer } : {}) });

describe('outbox retention', () => {
  it('prunes events older than the window in slices and says what is kept', async () => {
    await emitMany(30);
    const now = Date.now();
    await age(1, 20, 200, now);
    expect(await outbox.oldestKeptSeq()).toBe(1);
    const result = await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, sliceSize: 7, logger, now: () => now }).prune();
    expect(result).toEqual({ pruned: 20, floor: 20, expiredConsumers: [] });
    expect(await outbox.oldestKeptSeq()).toBe(21);
    expect((await outbox.read(0, 100)).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    expect(await db.collection('outbox').countDocuments()).toBe(10);
    expect((await feed(0)).oldest).toBe(21);
    // Nothing more may go: a second run is a no-op; new events keep their sequence numbers.
    expect((await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, logger, now: () => now }).prune()).pruned).toBe(0);
    await emitMany(1);
    expect((await outbox.read(29, 10)).map((e) => e.seq)).toEqual([30, 31]);
  });

  it('keeps at most maxEvents whatever their age', async () => {
    await emitMany(25);
    const result = await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 10, sliceSize: 4, logger }).prune();
    expect(result.pruned).toBe(15);
    expect(await outbox.oldestKeptSeq()).toBe(16);
    expect(await db.collection('outbox').countDocuments()).toBe(10);
  });

  it('holds age-based pruning at the slowest consumer seen within the window', async () => {
    await emitMany(30);
    const now = Date.now();
    await age(1, 30, 200, now);
    await feed(12, 'slow-indexer'); // registers its cursor: it has read up to 12
    await feed(25, 'fast-indexer');
    const result = await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, logger, now: () => now }).prune();
    expect(result.floor).toBe(12);
    expect(await outbox.oldestKeptSeq()).toBe(13);
    const answer = await feed(12, 'slow-indexer');
    expect(answer.events.map((e) => e.seq)[0]).toBe(13);
    expect(answer.oldest).toBe(13);
    // A consumer not seen for longer than the window no longer holds anything back.
    const later = now + 200 * HOUR;
    expect((await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, logger, now: () => later }).prune()).floor).toBe(30);
  });

  it('passes a consumer only for the count bound, and the consumer is told, skips to what is kept, and goes on', async () => {
    const consumerDb = storage.db('consumer');
    const seen: number[] = [];
    const lost: Array<{ from: number; to: number }> = [];
    let block = true;
    const c = new EventConsumer({
      name: 'indexer',
      db: consumerDb,
      leases: new LeaseManager(consumerDb),
      sourceUrl: feedUrl,
      sourceName: 'producer',
      secret,
      logger,
      handle: async (e: FolioEvent) => {
        if (block && e.seq > 3) throw new Error('busy');
        seen.push(e.seq);
      },
      onCursorExpired: (l) => void lost.push(l),
    });
    await emitMany(20);
    c.start();
    try {
      await eventually(async () => seen.length === 3);
      // Let the producer hear of its cursor (3), then the count bound (5) passes it.
      await eventually(async () => ((await db.collection<{ _id: string; cursor: number }>('outbox_consumers').findOne({ _id: 'indexer' }))?.cursor ?? -1) >= 3);
      const result = await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 5, logger }).prune();
      expect(result.floor).toBe(15);
      expect(result.expiredConsumers).toEqual(['indexer']);
      block = false;
      await eventually(async () => seen.length === 8, { timeoutMs: 30_000 });
      expect(seen).toEqual([1, 2, 3, 16, 17, 18, 19, 20]);
      expect(lost).toEqual([{ from: 4, to: 15 }]);
      expect(c.expiredEvents).toBe(12);
    } finally {
      await c.stop();
    }
  });

  it('does not move past a missing sequence number at the end (a transaction may still be committing)', async () => {
    await emitMany(5);
    const now = Date.now();
    await age(1, 5, 200, now);
    // seq 6 was handed out but its event is not there (in flight); 7 is recent.
    await db.collection('outbox_sequence').updateOne({ _id: 'outbox' as never }, { $inc: { seq: 1 } });
    await emitMany(1);
    const result = await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, logger, now: () => now }).prune();
    expect(result.floor).toBe(5);
    // Once a later event is old enough, the gap goes with it.
    await age(7, 7, 200, now);
    expect((await new OutboxRetention(db, { maxAgeMs: 168 * HOUR, maxEvents: 1000, logger, now: () => now }).prune()).floor).toBe(7);
  });
});

describe('readFeed', () => {
  it('leaves nothing attached to the long-lived signal it is read under, and still stops when it aborts', async () => {
    await emitMany(1);
    const stopping = new AbortController();
    for (let i = 0; i < 50; i++) await readFeed({ secret, audience: 'producer', baseUrl: feedUrl }, 0, { limit: 10, waitMs: 0, signal: stopping.signal });
    expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
    // AbortSignal.any kept one entry per call here on Node 20 (the soak's slow heap growth).
    const dependants = Object.getOwnPropertySymbols(stopping.signal).find((s) => s.description === 'kDependantSignals');
    expect(dependants ? (stopping.signal as unknown as Record<symbol, Set<unknown>>)[dependants]!.size : 0).toBe(0);

    const started = Date.now();
    const waiting = readFeed({ secret, audience: 'producer', baseUrl: feedUrl }, 1, { limit: 10, waitMs: 5_000, signal: stopping.signal });
    setTimeout(() => stopping.abort(), 50);
    await expect(waiting).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
