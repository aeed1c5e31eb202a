import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../test/kit/eventually.js';
import { tempDataDir } from '../test/kit/tempDir.js';
import { EventConsumer, Outbox, type FolioEvent } from './events.js';
import { dispatch } from './http/routes.js';
import { callInternal, RequestVerifier } from './signing.js';
import { LeaseManager } from './leases.js';
import { createLogger } from './logger.js';
import { openStorage, type Storage } from './storage/index.js';

const secret = 'events-test-secret-events-test-secret-00';
const logger = createLogger('events-test', 'silent');

let storage: Storage;
let dir: string;
let server: Server;
let feedUrl: string;
let outbox: Outbox;

beforeEach(async () => {
  dir = tempDataDir();
  storage = await openStorage({ dataDir: dir });
  outbox = new Outbox(storage.db('producer'));
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

function consumer(name: string, handle: (e: FolioEvent) => Promise<void>, db = storage.db('consumer')): EventConsumer {
  return new EventConsumer({ name, db, leases: new LeaseManager(db), sourceUrl: feedUrl, sourceName: 'producer', secret, logger, handle });
}

describe('outbox and event feed', () => {
  it('commits the change and its event together, with monotonic sequence numbers', async () => {
    const books = storage.db('producer').collection<{ _id: string; title: string }>('books');
    for (const id of ['a', 'b', 'c']) {
      await outbox.publish(async (tx, emit) => {
        await tx.collection<{ _id: string; title: string }>('books').insertOne({ _id: id, title: id.toUpperCase() });
        await emit('BookPublished', { bookId: id });
      });
    }
    expect(await books.countDocuments({})).toBe(3);
    expect((await outbox.read(0, 10)).map((e) => [e.seq, e.payload.bookId])).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
  });

  it('writes neither the change nor the event when the change fails', async () => {
    await expect(
      outbox.publish(async (tx, emit) => {
        await tx.collection<{ _id: string }>('books').insertOne({ _id: 'x' });
        await emit('BookPublished', { bookId: 'x' });
        throw new Error('validation failed after the write');
      }),
    ).rejects.toThrow('validation failed');
    expect(await storage.db('producer').collection('books').countDocuments({})).toBe(0);
    expect(await outbox.read(0, 10)).toEqual([]);
  });

  it('delivers every event in order to a consumer, long-polling for new ones', async () => {
    const seen: number[] = [];
    const c = consumer('indexer', async (e) => void seen.push(e.seq));
    c.start();
    for (let i = 0; i < 5; i++) await outbox.publish(async (_tx, emit) => void (await emit('Tick', { i })));
    await eventually(async () => seen.length === 5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await c.stop();
  });

  it('resumes from its durable cursor after a restart, without redelivering handled events', async () => {
    const first: number[] = [];
    const c1 = consumer('ugc-repair', async (e) => void first.push(e.seq));
    c1.start();
    await outbox.publish(async (_tx, emit) => void (await emit('Tick', {})));
    await eventually(async () => first.length === 1);
    await c1.stop();

    await outbox.publish(async (_tx, emit) => void (await emit('Tick', {})));
    const second: number[] = [];
    const c2 = consumer('ugc-repair', async (e) => void second.push(e.seq));
    c2.start();
    await eventually(async () => second.length === 1);
    expect(second).toEqual([2]);
    await c2.stop();
  });

  it('retries a failing handler and does not advance past the failed event', async () => {
    let attempts = 0;
    const handled: number[] = [];
    const c = consumer('flaky', async (e) => {
      if (e.seq === 1 && attempts++ < 2) throw new Error('downstream unavailable');
      handled.push(e.seq);
    });
    c.start();
    await outbox.publish(async (_tx, emit) => void (await emit('A', {})));
    await outbox.publish(async (_tx, emit) => void (await emit('B', {})));
    await eventually(async () => handled.length === 2, { timeoutMs: 10_000 });
    expect(handled).toEqual([1, 2]);
    expect(attempts).toBe(3);
    await c.stop();
  });

  it('tells its head, so a follower that needs no history starts there', async () => {
    const head = () => callInternal<{ events: FolioEvent[]; head: number }>({ secret, audience: 'producer', baseUrl: feedUrl }, 'GET', `/internal/events?after=${Number.MAX_SAFE_INTEGER}&wait=0`);
    expect(await head()).toEqual({ events: [], head: 0, oldest: 1 });
    for (let i = 0; i < 2; i++) await outbox.publish(async (_tx, emit) => void (await emit('Tick', { i })));
    expect(await head()).toEqual({ events: [], head: 2, oldest: 1 });
    expect((await callInternal<{ events: FolioEvent[]; head: number }>({ secret, audience: 'producer', baseUrl: feedUrl }, 'GET', '/internal/events?after=1')).head).toBe(2);
  });

  it('refuses unsigned feed requests', async () => {
    const response = await fetch(`${feedUrl}/internal/events?after=0`);
    expect(response.status).toBe(401);
  });
});
