/**
 * Several gateway processes with `FOLIO_REDIS_URL`: one of them, the holder of a Redis lease,
 * follows ugc's event feed and publishes each event on a pub/sub channel; every process (the
 * holder too) subscribes and hands events to its local subscribers. So ugc serves one long poll
 * instead of one per process. The holder stores its cursor in Redis after each batch; when it dies
 * or loses the lease another process takes over from that cursor (events already published may be
 * published again: receivers drop seqs they have seen). Pub/sub is at-most-once: a process cut off
 * from Redis misses what was published meanwhile (live updates only; catching up is the client's
 * `changes(after:)` query, not built yet). An outbox reset (ugc's head below the cursor) is handled
 * by the follower as without Redis.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FolioEvent } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import { followFeed, type FeedFollower, type Producer, type SyncHub } from './feed.js';

export interface RedisFanoutOptions {
  readonly redis: Redis;
  /** Pub/sub channel; `<channel>:leader` and `<channel>:cursor` are its keys. */
  readonly channel: string;
  readonly hub: SyncHub;
  readonly logger: Logger;
  /** Whose feed (one fan-out, with its own channel, per producer). @default 'ugc' */
  readonly producer?: Producer;
  /** Base URL of the producer's internal endpoints. */
  readonly baseUrl: string;
  readonly secret: string;
  /** How long the lease lasts without renewal (renewed every third of it). @default 10000 */
  readonly leaseMs?: number;
}

// Renews or releases the lease only while we still hold it.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RECENT = 10_000;
const CURSOR_TTL_MS = 60_000;

function parseEvent(message: string): FolioEvent | undefined {
  try {
    const event = JSON.parse(message) as Partial<FolioEvent>;
    if (!Number.isSafeInteger(event.seq) || typeof event.type !== 'string' || !event.payload || typeof event.payload !== 'object') return undefined;
    return event as FolioEvent;
  } catch {
    return undefined;
  }
}

export function startRedisFanout(options: RedisFanoutOptions): FeedFollower & { readonly leading: boolean } {
  const { redis, channel, logger, hub } = options;
  const producer = options.producer ?? 'ugc';
  const origin = randomUUID();
  const leaderKey = `${channel}:leader`;
  const cursorKey = `${channel}:cursor`;
  const leaseMs = options.leaseMs ?? 10_000;
  const recent = new Set<number>();
  let follower: FeedFollower | undefined;
  let stopped = false;

  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  subscriber.on('error', (err) => logger.debug({ err }, 'redis subscriber error (live events wait until it reconnects)'));
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    const event = parseEvent(message);
    if (!event) return void logger.warn({ channel }, 'ignoring a malformed sync event message');
    if (recent.has(event.seq)) return; // published again after a lease handover
    recent.add(event.seq);
    if (recent.size > RECENT) recent.delete(recent.values().next().value!);
    hub.publish(event, producer);
  });
  const subscribed = subscriber.subscribe(channel).then(
    () => true,
    (err: unknown) => {
      logger.warn({ err, channel }, 'sync event subscription failed');
      return false;
    },
  );

  async function tick(): Promise<void> {
    if (stopped) return;
    try {
      if (follower) {
        // The cursor outlives the lease only briefly: a successor after a long gap starts at the
        // head rather than replaying old changes to live subscribers.
        await redis.pexpire(cursorKey, CURSOR_TTL_MS);
        if ((await redis.eval(RENEW, 1, leaderKey, origin, String(leaseMs))) !== 1) {
          logger.warn('lost the sync feed lease; another gateway follows ugc events');
          const previous = follower;
          follower = undefined;
          await previous.stop();
        }
        return;
      }
      if ((await redis.set(leaderKey, origin, 'PX', leaseMs, 'NX')) !== 'OK') return;
      const stored = await redis.get(cursorKey);
      const startAt = stored !== null && /^\d{1,16}$/.test(stored) ? Number(stored) : undefined;
      logger.info({ startAt: startAt ?? 'head' }, 'holding the sync feed lease: following ugc events for every gateway');
      follower = followFeed({
        producer,
        baseUrl: options.baseUrl,
        secret: options.secret,
        hub,
        logger,
        startAt,
        deliver: (event) => redis.publish(channel, JSON.stringify(event)),
        onCursor: (cursor) => redis.set(cursorKey, String(cursor), 'PX', CURSOR_TTL_MS),
      });
    } catch (err) {
      logger.debug({ err }, 'sync feed lease check failed (Redis unavailable?)');
    }
  }
  const timer = setInterval(() => void tick(), Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  void tick();

  return {
    get leading() {
      return follower !== undefined;
    },
    get position() {
      return follower?.position;
    },
    // Ready once subscribed and some process follows the feed (its cursor is stored): what commits
    // from then on is published, whoever holds the lease.
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      if (!(await Promise.race([subscribed, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]))) return false;
      while (Date.now() < deadline) {
        try {
          if ((await redis.exists(cursorKey)) === 1) return true;
        } catch {
          // Redis unavailable: not ready
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      const previous = follower;
      follower = undefined;
      await previous?.stop();
      if (previous) await redis.eval(RELEASE, 1, leaderKey, origin).catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
