/**
 * Purges the response cache by tag (lib/cacheTags.ts) when catalog withdraws or changes a book, from
 * three sources, so that no instance serves a withdrawn book's content after the change:
 * - **mutation** (synchronous): catalog's mutation answers with `x-folio-cache-purge`; the gateway
 *   that ran it purges before it answers the client, and publishes the purge on Redis.
 * - **redis** (fan-out, with `FOLIO_REDIS_URL`): every instance applies purges the others publish,
 *   within milliseconds. Pub/sub is at-most-once (a disconnected instance misses messages), hence:
 * - **events** (complete): every instance follows catalog's signed event feed (long poll, woken by
 *   the commit) and purges for each book event, whoever caused it: mutations through another
 *   instance without Redis, or anything that changes a book without passing through a gateway.
 *   It starts at the feed's head (a new process has an empty cache, so history does not matter;
 *   what was cached before the head was known is dropped then) and resumes from its cursor after
 *   an outage, so an event is never skipped; a head below the cursor means the outbox was reset,
 *   and then everything is dropped.
 * Purges are idempotent, so receiving one twice (mutation + events) costs only the lookup.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseTags, purgeTagsForEvent } from '../../lib/cacheTags.js';
import { pause, readFeed } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayMetrics } from './metrics.js';
import type { ResponseCache } from './responseCache.js';

export interface CachePurgerOptions {
  readonly cache: ResponseCache;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
  /** Shares purges with the other instances through pub/sub; in-process only without it. */
  readonly redis?: Redis | undefined;
  /** @default 'folio:gateway:cache-purge' */
  readonly channel?: string;
  /** Base URL of catalog's internal endpoints: follow its event feed. Not followed when undefined. */
  readonly eventsUrl?: string | undefined;
  readonly secret: string;
  /** Long-poll wait per feed request. @default 20000 */
  readonly waitMs?: number;
}

export type PurgeSource = 'mutation' | 'redis' | 'events' | 'reset';

export interface CachePurger {
  /** Purges here and on every other instance (Redis); resolves once published. Returns entries removed here. */
  purge(tags: Iterable<string>, context: { source: 'mutation'; requestId?: string }): Promise<number>;
  start(): void;
  stop(): Promise<void>;
  /** The last catalog event handled; undefined until the feed answered once. */
  readonly position: number | undefined;
}

const MAX_BACKOFF_MS = 10_000;
const PUBLISH_TIMEOUT_MS = 250;

export function createCachePurger(options: CachePurgerOptions): CachePurger {
  const { cache, logger, metrics, redis } = options;
  const channel = options.channel ?? 'folio:gateway:cache-purge';
  const origin = randomUUID();
  const stopping = new AbortController();
  let subscriber: Redis | undefined;
  let following: Promise<void> | undefined;
  let cursor: number | undefined;

  function apply(tags: readonly string[], source: PurgeSource, context: Record<string, unknown> = {}): number {
    const removed = source === 'reset' ? cache.clear() : cache.purge(tags);
    metrics?.responseCachePurges.inc({ source });
    metrics?.responseCachePurgedEntries.inc({ source }, removed);
    logger.info({ source, tags: tags.slice(0, 20), tagCount: tags.length, removed, ...context }, 'response cache purged');
    return removed;
  }

  function onMessage(received: string, message: string): void {
    if (received !== channel) return;
    let parsed: { origin?: unknown; tags?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      logger.warn({ channel }, 'ignoring a cache purge message that is not JSON');
      return;
    }
    if (parsed.origin === origin) return; // our own, already applied
    const tags = Array.isArray(parsed.tags) && parsed.tags.length <= 1_000 && parsed.tags.every((t) => typeof t === 'string') ? parseTags(parsed.tags as string[]) : undefined;
    if (!tags) {
      logger.warn({ channel }, 'ignoring a malformed cache purge message');
      return;
    }
    apply(tags, 'redis', { from: parsed.origin });
  }

  const feed = (baseUrl: string, after: number, limit: number, waitMs: number) =>
    readFeed({ secret: options.secret, audience: 'catalog', baseUrl }, after, { limit, waitMs, signal: stopping.signal });

  // Rolled-back transactions leave gaps in the sequence; commits are ordered by the sequence
  // counter (each transaction writes it), so a gap is never an event still to come and is skipped.
  async function follow(baseUrl: string): Promise<void> {
    const waitMs = options.waitMs ?? 20_000;
    let backoffMs = 250;
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        if (cursor === undefined) {
          cursor = (await feed(baseUrl, Number.MAX_SAFE_INTEGER, 1, 0)).head;
          // Whatever was cached before we knew where the feed stood (the first requests, or all of a
          // catalog outage at start) may predate an event below the head, which we will never see.
          const dropped = cache.clear();
          logger.info({ eventsUrl: baseUrl, from: cursor, dropped }, 'response cache follows catalog events');
        }
        const { events, head } = await feed(baseUrl, cursor, 500, waitMs);
        if (head < cursor) {
          logger.warn({ cursor, head }, 'catalog event feed went backwards (outbox reset): dropping the whole response cache');
          apply([], 'reset');
          cursor = head;
          continue;
        }
        for (const event of events) {
          const tags = purgeTagsForEvent(event);
          if (tags.length > 0) apply(tags, 'events', { event: event.type, seq: event.seq });
          cursor = event.seq;
        }
        if (failures > 0) logger.info({ failures }, 'catalog event feed reachable again');
        failures = 0;
        backoffMs = 250;
      } catch (err) {
        if (stopping.signal.aborted) break;
        // Purges from this source wait until the feed is back; from the cursor, none is lost.
        failures++;
        logger[failures === 1 ? 'warn' : 'debug']({ err, retryInMs: backoffMs, failures }, 'catalog event feed failed; retrying');
        await pause(backoffMs, stopping.signal);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  return {
    get position() {
      return cursor;
    },
    async purge(tags, context) {
      const list = [...tags];
      const removed = apply(list, context.source, context.requestId ? { requestId: context.requestId } : {});
      if (redis) {
        // The mutation's answer waits for this, so a Redis that hangs must not hold it: other
        // instances still purge from the event feed.
        let timer: NodeJS.Timeout | undefined;
        const published = redis.publish(channel, JSON.stringify({ origin, tags: list })).then(
          () => true,
          (err: unknown) => {
            logger.warn({ err, tags: list.slice(0, 20) }, 'cache purge not published to Redis (other instances purge from the event feed)');
            return true;
          },
        );
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PUBLISH_TIMEOUT_MS)));
        if (!(await Promise.race([published, late]))) logger.warn({ tags: list.slice(0, 20), timeoutMs: PUBLISH_TIMEOUT_MS }, 'cache purge publish to Redis is slow; answering without waiting');
        clearTimeout(timer);
      }
      return removed;
    },
    start() {
      if (redis && !subscriber) {
        // A connection in subscriber mode serves nothing else; queue the subscription until connected.
        subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
        subscriber.on('error', (err) => logger.debug({ err }, 'redis subscriber error (cache purges fall back to the event feed)'));
        subscriber.on('message', onMessage);
        subscriber.subscribe(channel).catch((err: unknown) => logger.warn({ err, channel }, 'cache purge subscription failed'));
      }
      if (options.eventsUrl && !following) following = follow(options.eventsUrl);
    },
    async stop() {
      stopping.abort();
      await following;
      subscriber?.disconnect();
    },
  };
}
