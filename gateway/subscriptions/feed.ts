/**
 * How events reach the gateway: every gateway process follows ugc's signed outbox feed
 * (`GET /internal/events?after=&wait=`, long poll woken by the commit), from the feed's head at
 * start, and hands each event that names a user to the local subscribers of that user (SyncHub).
 * Why this and not subgraph-side subscriptions (WebSocket or the callback protocol): the outbox is
 * written in the same transaction as the change, so nothing committed is ever missed or sent
 * before it commits; a gateway that was cut off resumes from its cursor; ugc keeps no
 * per-subscriber state and needs no route back to every gateway; and the cache purger already
 * follows catalog's feed the same way. With several gateway processes each one follows the feed,
 * so every process sees every event without Redis; with Redis (redisFanout.ts) one process, the
 * lease holder, follows the feed and publishes, the others only subscribe.
 */
import { pause, readFeed, type FolioEvent } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';

export type SyncListener = (event: FolioEvent) => void;

/** Local fan-out by user id: a subscriber is only ever handed events whose payload names its own user. */
export class SyncHub {
  private readonly byUser = new Map<string, Set<SyncListener>>();

  listen(userId: string, listener: SyncListener): () => void {
    let listeners = this.byUser.get(userId);
    if (!listeners) this.byUser.set(userId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byUser.get(userId) === listeners) this.byUser.delete(userId);
    };
  }

  publish(event: FolioEvent): number {
    const userId = event.payload.userId;
    if (typeof userId !== 'string') return 0;
    const listeners = this.byUser.get(userId);
    if (!listeners) return 0;
    for (const listener of [...listeners]) listener(event);
    return listeners.size;
  }
}

export interface FeedFollowerOptions {
  /** Base URL of ugc's internal endpoints. */
  readonly baseUrl: string;
  readonly secret: string;
  readonly hub: SyncHub;
  readonly logger: Logger;
  /** Long-poll wait per request. @default 20000 */
  readonly waitMs?: number;
  /** Where to start; undefined: the feed's head. */
  readonly startAt?: number | undefined;
  /** Hands one event on. @default hub.publish; a throw retries the batch from the cursor. */
  readonly deliver?: (event: FolioEvent) => void | Promise<unknown>;
  /** Called with the cursor once known and after each delivered batch (where a successor resumes). */
  readonly onCursor?: (cursor: number) => void | Promise<unknown>;
}

export interface FeedFollower {
  /** Resolves once the feed's head is known: events from then on are delivered. */
  ready(timeoutMs: number): Promise<boolean>;
  readonly position: number | undefined;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;

export function followFeed(options: FeedFollowerOptions): FeedFollower {
  const stopping = new AbortController();
  let cursor: number | undefined = options.startAt;
  const deliver = options.deliver ?? ((event: FolioEvent) => void options.hub.publish(event));
  let markReady: () => void = () => {};
  const known = new Promise<void>((resolve) => (markReady = resolve));

  const source = { secret: options.secret, audience: 'ugc', baseUrl: options.baseUrl };
  const feed = (after: number, limit: number, waitMs: number) => readFeed(source, after, { limit, waitMs, signal: stopping.signal });

  async function follow(): Promise<void> {
    const waitMs = options.waitMs ?? 20_000;
    let backoffMs = 250;
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        if (cursor === undefined) {
          // Subscribers want what happens from now on; history is the catch-up query's job.
          cursor = (await feed(Number.MAX_SAFE_INTEGER, 1, 0)).head;
          await options.onCursor?.(cursor);
          options.logger.info({ from: cursor }, 'subscriptions follow ugc events');
        }
        markReady();
        const { events, head } = await feed(cursor, 500, waitMs);
        if (head < cursor) {
          options.logger.warn({ cursor, head }, 'ugc event feed went backwards (outbox reset): following from its head');
          cursor = head;
          continue;
        }
        for (const event of events) {
          await deliver(event);
          cursor = event.seq;
        }
        if (events.length > 0) await options.onCursor?.(cursor);
        if (failures > 0) options.logger.info({ failures }, 'ugc event feed reachable again');
        failures = 0;
        backoffMs = 250;
      } catch (err) {
        if (stopping.signal.aborted) break;
        // Events wait (from the cursor, none is lost) until the feed is back.
        failures++;
        options.logger[failures === 1 ? 'warn' : 'debug']({ err, retryInMs: backoffMs, failures }, 'ugc event feed failed; retrying');
        await pause(backoffMs, stopping.signal);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  const following = follow();
  return {
    get position() {
      return cursor;
    },
    async ready(timeoutMs) {
      if (cursor !== undefined) return true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const result = await Promise.race([known.then(() => true), late]);
      clearTimeout(timer);
      return result;
    },
    async stop() {
      stopping.abort();
      await following;
    },
  };
}
