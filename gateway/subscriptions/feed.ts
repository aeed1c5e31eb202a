/**
 * How events reach the gateway: every gateway process follows ugc's signed outbox feed (and
 * catalog's, for `uploadJobUpdated`: one follower per producer, the same code)
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

/** A subgraph whose outbox feed the gateway follows (its service name: the feed's signing audience). */
export type Producer = 'ugc' | 'catalog';

/** A shared thing subscribers watch: `producer`'s events whose payload has `key` equal to `value` (a job, a book, a paragraph). */
export interface Topic {
  readonly producer: Producer;
  readonly key: string;
  readonly value: string;
}

const topicId = (producer: Producer, key: string, value: string): string => JSON.stringify([producer, key, value]);

/**
 * Local fan-out. By user id, for ugc's events about a user's own data: a subscriber is only ever
 * handed events whose payload names its own user. By topic, for events about shared things
 * (`uploadJobUpdated(id)`, `publicNoteAdded(paragraphId)`): every subscriber of that thing, whoever
 * made the change; the owning subgraph then decides per subscriber whether it may see it.
 */
export class SyncHub {
  private readonly byUser = new Map<string, Set<SyncListener>>();
  private readonly byTopic = new Map<string, Set<SyncListener>>();
  /** The payload keys some topic listener uses, per producer, with how many topics use each. */
  private readonly topicKeys = new Map<Producer, Map<string, number>>();

  listenTopic(topic: Topic, listener: SyncListener): () => void {
    const id = topicId(topic.producer, topic.key, topic.value);
    let listeners = this.byTopic.get(id);
    if (!listeners) {
      this.byTopic.set(id, (listeners = new Set()));
      const keys = this.topicKeys.get(topic.producer) ?? new Map<string, number>();
      keys.set(topic.key, (keys.get(topic.key) ?? 0) + 1);
      this.topicKeys.set(topic.producer, keys);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size > 0 || this.byTopic.get(id) !== listeners) return;
      this.byTopic.delete(id);
      const keys = this.topicKeys.get(topic.producer)!;
      const left = keys.get(topic.key)! - 1;
      if (left > 0) keys.set(topic.key, left);
      else keys.delete(topic.key);
    };
  }

  listen(userId: string, listener: SyncListener): () => void {
    let listeners = this.byUser.get(userId);
    if (!listeners) this.byUser.set(userId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byUser.get(userId) === listeners) this.byUser.delete(userId);
    };
  }

  /** Hands `producer`'s event to its user's listeners (ugc only) and its topics' listeners; returns how many. */
  publish(event: FolioEvent, producer: Producer = 'ugc'): number {
    let handed = 0;
    const userId = event.payload.userId;
    const mine = producer === 'ugc' && typeof userId === 'string' ? this.byUser.get(userId) : undefined;
    if (mine) {
      for (const listener of [...mine]) listener(event);
      handed += mine.size;
    }
    for (const key of this.topicKeys.get(producer)?.keys() ?? []) {
      const value = event.payload[key];
      const listeners = typeof value === 'string' ? this.byTopic.get(topicId(producer, key, value)) : undefined;
      if (!listeners) continue;
      for (const listener of [...listeners]) listener(event);
      handed += listeners.size;
    }
    return handed;
  }
}

export interface FeedFollowerOptions {
  /** Whose feed. @default 'ugc' */
  readonly producer?: Producer;
  /** Base URL of the producer's internal endpoints. */
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
  const producer = options.producer ?? 'ugc';
  const deliver = options.deliver ?? ((event: FolioEvent) => void options.hub.publish(event, producer));
  let markReady: () => void = () => {};
  const known = new Promise<void>((resolve) => (markReady = resolve));

  const source = { secret: options.secret, audience: producer, baseUrl: options.baseUrl };
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
          options.logger.info({ from: cursor, producer }, `subscriptions follow ${producer} events`);
        }
        markReady();
        const { events, head } = await feed(cursor, 500, waitMs);
        if (head < cursor) {
          options.logger.warn({ cursor, head, producer }, `${producer} event feed went backwards (outbox reset): following from its head`);
          cursor = head;
          continue;
        }
        for (const event of events) {
          await deliver(event);
          cursor = event.seq;
        }
        if (events.length > 0) await options.onCursor?.(cursor);
        if (failures > 0) options.logger.info({ failures, producer }, `${producer} event feed reachable again`);
        failures = 0;
        backoffMs = 250;
      } catch (err) {
        if (stopping.signal.aborted) break;
        // Events wait (from the cursor, none is lost) until the feed is back.
        failures++;
        options.logger[failures === 1 ? 'warn' : 'debug']({ err, retryInMs: backoffMs, failures, producer }, `${producer} event feed failed; retrying`);
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
