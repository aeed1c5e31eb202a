/**
 * Events between services: the producer appends to an outbox collection
 * in its own database inside the same transaction as the change, with a monotonic sequence
 * number, and serves the outbox over a signed HTTP feed. Each consumer keeps its cursor in its
 * own database, handles each event idempotently, and advances the cursor only after the work
 * is durable. A broker could replace the feed later without touching business code.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { badInput } from './errors.js';
import { callInternal } from './signing.js';
import { sendJson } from './http/respond.js';
import type { Route } from './http/routes.js';
import type { Logger } from './logger.js';
import type { LeaseManager } from './leases.js';
import type { FolioDb } from './storage/index.js';
import type { DocCollection } from './storage/types.js';
import { WorkerLoop } from './workerLoop.js';

export interface FolioEvent<P = Record<string, unknown>> {
  readonly seq: number;
  readonly type: string;
  readonly payload: P;
  readonly createdAt: string;
}

interface OutboxDoc {
  _id: number;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

interface SequenceDoc {
  _id: string;
  seq: number;
}

interface CursorDoc {
  _id: string;
  seq: number;
  updatedAt: Date;
}

export const FEED_MAX_LIMIT = 500;
export const FEED_MAX_WAIT_MS = 25_000;

/** The producer side: append inside the caller's transaction; serve the feed. */
export class Outbox {
  private readonly appended = new EventEmitter();

  constructor(private readonly db: FolioDb) {
    this.appended.setMaxListeners(1_000);
  }

  private outbox(db: FolioDb = this.db): DocCollection<OutboxDoc> {
    return db.collection<OutboxDoc>('outbox');
  }

  /**
   * Appends an event. Pass the transaction's `tx` so the event commits with the change;
   * call `notify()` after the transaction commits to wake long-polling consumers.
   */
  async append(tx: FolioDb, type: string, payload: Record<string, unknown>): Promise<number> {
    const counter = await tx
      .collection<SequenceDoc>('outbox_sequence')
      .findOneAndUpdate({ _id: 'outbox' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    const seq = counter!.seq;
    await this.outbox(tx).insertOne({ _id: seq, type, payload, createdAt: new Date() });
    return seq;
  }

  /** Runs the change and its events in one transaction, then wakes the feed. */
  async publish<R>(change: (tx: FolioDb, emit: (type: string, payload: Record<string, unknown>) => Promise<number>) => Promise<R>): Promise<R> {
    const result = await this.db.transaction((tx) => change(tx, (type, payload) => this.append(tx, type, payload)));
    this.notify();
    return result;
  }

  notify(): void {
    this.appended.emit('appended');
  }

  /** The newest sequence number handed out (0 before the first event): where a new follower starts. */
  async head(): Promise<number> {
    return (await this.db.collection<SequenceDoc>('outbox_sequence').findOne({ _id: 'outbox' }))?.seq ?? 0;
  }

  async read(after: number, limit: number): Promise<FolioEvent[]> {
    const docs = await this.outbox().find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map((d) => ({ seq: d._id, type: d.type, payload: d.payload, createdAt: d.createdAt.toISOString() }));
  }

  /** Reads, waiting up to waitMs for something new (long poll); `signal` ends the wait early. */
  async poll(after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<FolioEvent[]> {
    const events = await this.read(after, limit);
    if (events.length > 0 || waitMs <= 0 || signal?.aborted) return events;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.appended.off('appended', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.appended.on('appended', done);
      signal?.addEventListener('abort', done);
    });
    return signal?.aborted ? [] : this.read(after, limit);
  }

  /**
   * `GET /internal/events?after=<seq>&limit=<n>&wait=<ms>`, signed. Answers `{ events, head }`: a
   * follower that needs no history (the gateway's cache purger) starts from `head`, and a head below
   * its cursor tells it the outbox was reset.
   */
  route(): Route {
    const query = z.object({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(FEED_MAX_LIMIT).default(100),
      wait: z.coerce.number().int().min(0).max(FEED_MAX_WAIT_MS).default(0),
    });
    return {
      method: 'GET',
      path: '/internal/events',
      internal: true,
      handle: async ({ req, res, url }) => {
        const parsed = query.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) throw badInput('Expected after, limit and wait as non-negative integers.');
        const { after, limit, wait } = parsed.data;
        // A consumer that went away (stopped, or its lease was lost) must not hold the request open.
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        req.once('aborted', () => gone.abort());
        const events = await this.poll(after, limit, wait, gone.signal);
        const head = await this.head();
        if (!res.destroyed) sendJson(res, 200, { events, head });
      },
    };
  }
}

/** Where a producer's feed is: its base URL and its audience name for request signing. */
export interface FeedSource {
  readonly baseUrl: string;
  readonly audience: string;
  readonly secret: string;
}

/**
 * One read of a producer's signed feed: up to `limit` events after `after`, long-polling up to
 * `waitMs`; `head` is the producer's newest seq. The one client of `GET /internal/events` (consumers,
 * the gateway's cache purger and its subscription feed).
 */
export async function readFeed(source: FeedSource, after: number, options: { limit: number; waitMs: number; signal?: AbortSignal }): Promise<{ events: FolioEvent[]; head: number }> {
  const timeout = AbortSignal.timeout(options.waitMs + 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const answer = await callInternal<{ events?: FolioEvent[]; head?: unknown }>(
    { secret: source.secret, audience: source.audience, baseUrl: source.baseUrl },
    'GET',
    `/internal/events?after=${after}&limit=${options.limit}&wait=${options.waitMs}`,
    undefined,
    { signal },
  );
  if (!Array.isArray(answer.events) || typeof answer.head !== 'number') throw new Error('the event feed answered without events and head');
  return { events: answer.events, head: answer.head };
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects): a backoff a stop can cut short. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export interface EventConsumerOptions {
  /** Consumer name, unique within the consuming service (e.g. `search-indexer`). */
  readonly name: string;
  /** The consumer's own database: cursor and lease live there. */
  readonly db: FolioDb;
  readonly leases: LeaseManager;
  /** Base URL of the producer (no path). */
  readonly sourceUrl: string;
  /** The producer's service name: feed requests are signed for it alone. */
  readonly sourceName: string;
  readonly secret: string;
  readonly logger: Logger;
  /** Must be idempotent: an event can be delivered again after a crash. */
  handle(event: FolioEvent): Promise<void>;
  /** Events fetched per poll. @default 100 */
  readonly batchSize?: number;
  /** A gap in sequence numbers (a rolled-back or in-flight transaction) is skipped after this long. @default 10 s */
  readonly gapTimeoutMs?: number;
}

/**
 * Pulls a producer's feed and hands events to `handle` in order. Only one instance per consumer
 * name works at a time (a lease); the cursor moves only after `handle` resolved.
 */
export class EventConsumer {
  private readonly loop: WorkerLoop;
  private readonly cursors: DocCollection<CursorDoc>;
  private lastSeq = 0;

  constructor(private readonly options: EventConsumerOptions) {
    this.cursors = options.db.collection<CursorDoc>('event_cursors');
    this.loop = new WorkerLoop({
      name: `event consumer ${options.name}`,
      logger: options.logger,
      // Another instance holds the lease: look again this often.
      pollMs: 2_000,
      backoffMs: 250,
      maxBackoffMs: 10_000,
      step: (stopping) => this.followWhileLeased(stopping),
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** The last sequence number handled. */
  get position(): number {
    return this.lastSeq;
  }

  private async readCursor(): Promise<number> {
    return (await this.cursors.findOne({ _id: this.options.name }))?.seq ?? 0;
  }

  /** Follows the feed for as long as this instance holds the consumer's lease; false when another does. */
  private async followWhileLeased(stopping: AbortSignal): Promise<boolean> {
    const lease = await this.options.leases.tryAcquire(`consumer:${this.options.name}`, { ttlMs: 30_000 });
    if (!lease) return false;
    try {
      await this.consume(AbortSignal.any([stopping, lease.signal]));
      return true;
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** `until` aborts when the consumer stops or its lease is lost. */
  private async consume(until: AbortSignal): Promise<void> {
    const { name, sourceUrl, sourceName, secret, logger } = this.options;
    const batchSize = this.options.batchSize ?? 100;
    const gapTimeoutMs = this.options.gapTimeoutMs ?? 10_000;
    let cursor = await this.readCursor();
    this.lastSeq = cursor;
    let gapSince: number | null = null;
    while (!until.aborted) {
      const waitMs = gapSince === null ? 20_000 : 500;
      const { events } = await readFeed({ secret, audience: sourceName, baseUrl: sourceUrl }, cursor, { limit: batchSize, waitMs, signal: until });
      if (events.length === 0) continue;
      for (const event of events) {
        if (event.seq !== cursor + 1) {
          // A sequence number is missing: its transaction may still be committing. Wait a little, then skip it.
          gapSince ??= Date.now();
          if (Date.now() - gapSince < gapTimeoutMs) break;
          logger.warn({ consumer: name, missing: `${cursor + 1}..${event.seq - 1}` }, 'skipping a gap in the event feed');
        }
        gapSince = null;
        await this.options.handle(event);
        cursor = event.seq;
        this.lastSeq = cursor;
        await this.cursors.updateOne({ _id: name }, { $set: { seq: cursor, updatedAt: new Date() } }, { upsert: true });
      }
    }
  }
}
