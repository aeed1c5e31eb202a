import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { eventually } from '../../test/kit/eventually.js';
import { createCachePurger, type CachePurger } from './cachePurge.js';
import { createResponseCache, type ResponseCache } from './responseCache.js';

const anonymous: Caller = { ...ANONYMOUS, clientAddress: '1.2.3.4' };
const logger = createLogger('cache-purge-test', 'silent');

/** A stand-in for catalog's `/internal/events` long-poll feed that can go down and be reset. */
class FakeFeed {
  events: Array<{ seq: number; type: string; payload: Record<string, unknown>; createdAt: string }> = [];
  down = false;
  requests: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://feed');
      this.requests.push(url.search);
      if (this.down) {
        res.writeHead(503).end();
        return;
      }
      const after = Number(url.searchParams.get('after'));
      const deadline = Date.now() + Number(url.searchParams.get('wait'));
      const answer = (): void => {
        const events = this.events.filter((e) => e.seq > after).slice(0, Number(url.searchParams.get('limit')));
        if (events.length === 0 && Date.now() < deadline && !this.down) {
          setTimeout(answer, 10);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events, head: this.events.at(-1)?.seq ?? 0 }));
      };
      answer();
    });
  }

  emit(type: string, bookId: string): void {
    const seq = (this.events.at(-1)?.seq ?? 0) + 1;
    this.events.push({ seq, type, payload: { bookId }, createdAt: new Date().toISOString() });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const store = (cache: ResponseCache, key: string, tags: string[]): void => {
  const ok = cache.maybeStore(key, anonymous, { status: 200, headers: [], body: Buffer.from('{"data":{}}'), cacheControl: 'max-age=300, public' }, 'query', {
    tags: new Set(tags),
    oldestFetchAt: undefined,
  });
  expect(ok).toBe(true);
};

describe('cache purger', () => {
  let feed: FakeFeed;
  let purger: CachePurger | undefined;
  afterEach(async () => {
    await purger?.stop();
    await feed?.close();
  });

  it('follows the feed from its head, purges per book event, and resumes from its cursor after an outage', async () => {
    feed = new FakeFeed();
    feed.emit('BookUnpublished', 'old'); // history: nothing a new process has cached
    const cache = createResponseCache();
    purger = createCachePurger({ cache, logger, eventsUrl: await feed.listen(), secret: 's', waitMs: 200 });
    store(cache, 'early', ['book:x']); // cached before the purger knew the head: it may predate an event
    purger.start();
    await eventually(async () => purger!.position === 1, { timeoutMs: 5_000, intervalMs: 10 });
    expect(cache.get('early', anonymous)).toBeUndefined();
    store(cache, 'old', ['book:old']);

    store(cache, 'a', ['book:a']);
    store(cache, 'list', ['books']);
    feed.emit('BookUnpublished', 'a');
    await eventually(async () => cache.get('a', anonymous) === undefined, { timeoutMs: 2_000, intervalMs: 10 });
    expect(cache.get('list', anonymous)).toBeUndefined();
    expect(cache.get('old', anonymous)).toBeDefined(); // history before the head is not replayed

    // The feed goes away; an event committed meanwhile is purged once it is back.
    feed.down = true;
    const before = feed.requests.length;
    await eventually(async () => feed.requests.length > before, { timeoutMs: 5_000, intervalMs: 10 });
    store(cache, 'b', ['book:b']);
    feed.emit('BookLicenseChanged', 'b');
    feed.down = false;
    await eventually(async () => cache.get('b', anonymous) === undefined, { timeoutMs: 5_000, intervalMs: 20 });
    expect(purger.position).toBe(3);
  });

  it('drops everything when the feed goes backwards (the outbox was reset)', async () => {
    feed = new FakeFeed();
    feed.emit('BookPublished', 'x');
    feed.emit('BookPublished', 'y');
    const cache = createResponseCache();
    purger = createCachePurger({ cache, logger, eventsUrl: await feed.listen(), secret: 's', waitMs: 100 });
    purger.start();
    await eventually(async () => purger!.position === 2, { timeoutMs: 5_000, intervalMs: 10 });
    store(cache, 'unrelated', ['book:z']);
    feed.events = [];
    await eventually(async () => cache.stats().entries === 0, { timeoutMs: 5_000, intervalMs: 10 });
    expect(purger.position).toBe(0);
  });

  it('a mutation purge applies at once, without Redis', async () => {
    const cache = createResponseCache();
    purger = createCachePurger({ cache, logger, secret: 's' });
    store(cache, 'a', ['book:a']);
    store(cache, 'b', ['book:b']);
    expect(await purger.purge(['book:a'], { source: 'mutation' })).toBe(1);
    expect(cache.get('b', anonymous)).toBeDefined();
  });
});
