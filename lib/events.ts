/**
 * Events between services: the producer appends to an outbox collection
 * in its own database inside the same transaction as the change, with a monotonic sequence
 * number, and serves the outbox over a signed HTTP feed. Each consumer keeps its cursor in its
 * own database, handles each event idempotently, and advances the cursor only after the work
 * is durable. A broker could replace the feed later without touching business code.
 *
 * Retention: the outbox keeps events for a window (FOLIO_OUTBOX_RETENTION_HOURS) and at most a
 * number of them (FOLIO_OUTBOX_MAX_EVENTS); `OutboxRetention` prunes older ones in the background,
 * a slice at a time. Consumers name themselves on the feed (`consumer=`), and the producer keeps
 * their cursors (`outbox_consumers`): age-based pruning never passes the slowest cursor of a
 * consumer seen within the window. Only the count bound (memory) may pass it; the consumer is then
 * told: the feed answers `oldest` (the oldest kept seq), and a consumer whose cursor is below it
 * logs the loss, counts it and calls its `onCursorExpired` before going on from `oldest`.
 */
import { EventEmitter } from 'node:events';
import { anySignal } from 'any-signal';
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
  /** Every event with seq ≤ floor has been pruned (retention); absent: none yet. */
  floor?: number;
}

/** A consumer the producer has heard from on its feed: how far it has read. */
interface ConsumerDoc {
  _id: string;
  cursor: number;
  seenAt: Date;
  /** Set when pruning had to pass its cursor (count bound): events up to `lostUpTo` are gone. */
  expired?: { at: Date; lostUpTo: number };
}

const CONSUMER_NAME = /^[A-Za-z0-9:_.-]{1,80}$/;
/** A consumer's cursor is written back at most this often (the feed is polled far more often). */
const CONSUMER_WRITE_EVERY_MS = 5_000;

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
  /** Consumer name → when its cursor was last written and what it was. */
  private readonly consumerWrites = new Map<string, { at: number; cursor: number }>();

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

  /**
   * Where the outbox stands, from one point read of its sequence doc: `head`, the newest sequence
   * number handed out (0 before the first event), and `oldest`, the oldest still kept (head + 1 when
   * none is kept yet or all were pruned).
   */
  private async position(): Promise<{ head: number; oldest: number }> {
    const doc = await this.db.collection<SequenceDoc>('outbox_sequence').findOne({ _id: 'outbox' });
    return { head: doc?.seq ?? 0, oldest: (doc?.floor ?? 0) + 1 };
  }

  /** The newest sequence number handed out (0 before the first event): where a new follower starts. */
  async head(): Promise<number> {
    return (await this.position()).head;
  }

  /**
   * The oldest sequence number still kept: `after` still reads every later event iff
   * `after >= oldestKeptSeq() - 1`; below that, events were pruned.
   */
  async oldestKeptSeq(): Promise<number> {
    return (await this.position()).oldest;
  }

  /** Records how far a named consumer has read (throttled: at most one write per consumer per 5 s). */
  async noteConsumer(name: string, cursor: number): Promise<void> {
    const last = this.consumerWrites.get(name);
    const now = Date.now();
    // Within the window only a cursor that went back (a consumer reset) is written at once.
    if (last && now - last.at < CONSUMER_WRITE_EVERY_MS && cursor >= last.cursor) return;
    this.consumerWrites.set(name, { at: now, cursor });
    await this.db
      .collection<ConsumerDoc>('outbox_consumers')
      .updateOne({ _id: name }, { $set: { cursor, seenAt: new Date(now) }, $unset: { expired: '' } }, { upsert: true });
  }

  async read(after: number, limit: number): Promise<FolioEvent[]> {
    const docs = await this.outbox().find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map((d) => ({ seq: d._id, type: d.type, payload: d.payload, createdAt: d.createdAt.toISOString() }));
  }

  /**
   * The event at `seq` as a client sent it back (a subscription's per-event query): one of `types`,
   * else null — as for a malformed seq or one that is gone.
   */
  async at(seqInput: string, types: readonly string[]): Promise<FolioEvent | null> {
    if (!/^[1-9][0-9]{0,15}$/.test(seqInput)) return null;
    const seq = Number(seqInput);
    const [event] = await this.read(seq - 1, 1);
    return event && event.seq === seq && types.includes(event.type) ? event : null;
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
   * `GET /internal/events?after=<seq>&limit=<n>&wait=<ms>[&consumer=<name>]`, signed. Answers
   * `{ events, head, oldest }`: a follower that needs no history (the gateway's cache purger)
   * starts from `head`, a head below its cursor tells it the outbox was reset, and `oldest` above
   * `after + 1` tells it events it has not read were pruned.
   */
  route(): Route {
    const query = z.object({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(FEED_MAX_LIMIT).default(100),
      wait: z.coerce.number().int().min(0).max(FEED_MAX_WAIT_MS).default(0),
      consumer: z.string().regex(CONSUMER_NAME).optional(),
    });
    return {
      method: 'GET',
      path: '/internal/events',
      internal: true,
      handle: async ({ req, res, url }) => {
        const parsed = query.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) throw badInput('Expected after, limit and wait as non-negative integers (and consumer as a name).');
        const { after, limit, wait, consumer } = parsed.data;
        // A named consumer's cursor holds back age-based pruning (see OutboxRetention).
        if (consumer) await this.noteConsumer(consumer, after);
        // A consumer that went away (stopped, or its lease was lost) must not hold the request open.
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        req.once('aborted', () => gone.abort());
        const events = await this.poll(after, limit, wait, gone.signal);
        const { head, oldest } = await this.position();
        if (!res.destroyed) sendJson(res, 200, { events, head, oldest });
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
export async function readFeed(
  source: FeedSource,
  after: number,
  options: { limit: number; waitMs: number; signal?: AbortSignal; consumer?: string },
): Promise<{ events: FolioEvent[]; head: number; oldest: number }> {
  const named = options.consumer ? `&consumer=${encodeURIComponent(options.consumer)}` : '';
  const answer = await callInternal<{ events?: FolioEvent[]; head?: unknown; oldest?: unknown }>(
    { secret: source.secret, audience: source.audience, baseUrl: source.baseUrl },
    'GET',
    `/internal/events?after=${after}&limit=${options.limit}&wait=${options.waitMs}${named}`,
    undefined,
    { timeoutMs: options.waitMs + 10_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (!Array.isArray(answer.events) || typeof answer.head !== 'number') throw new Error('the event feed answered without events and head');
  // A producer without retention answers no `oldest`: everything is kept.
  return { events: answer.events, head: answer.head, oldest: typeof answer.oldest === 'number' ? answer.oldest : 1 };
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
  /**
   * The producer pruned events this consumer had not read (its cursor fell below the producer's
   * count bound): events `from..to` are lost to it. Called before it goes on from `to + 1`; a
   * consumer that derives state from the feed should schedule a rebuild. Logged as an error either way.
   */
  onCursorExpired?(lost: { from: number; to: number }): Promise<void> | void;
}

/**
 * Pulls a producer's feed and hands events to `handle` in order. Only one instance per consumer
 * name works at a time (a lease); the cursor moves only after `handle` resolved.
 */
export class EventConsumer {
  private readonly loop: WorkerLoop;
  private readonly cursors: DocCollection<CursorDoc>;
  private lastSeq = 0;
  /** Events pruned by the producer before this consumer read them (see onCursorExpired). */
  expiredEvents = 0;

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
    const until = anySignal([stopping, lease.signal]);
    try {
      await this.consume(until);
      return true;
    } finally {
      until.clear();
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
      const { events, oldest } = await readFeed({ secret, audience: sourceName, baseUrl: sourceUrl }, cursor, { limit: batchSize, waitMs, signal: until, consumer: name });
      if (oldest > cursor + 1) {
        // Pruned before we read them: not a gap to wait for. Say so, then go on from what is kept.
        const lost = { from: cursor + 1, to: oldest - 1 };
        logger.error({ consumer: name, lost: `${lost.from}..${lost.to}` }, 'events expired from the producer outbox before this consumer read them');
        await this.options.onCursorExpired?.(lost);
        cursor = oldest - 1;
        this.lastSeq = cursor;
        this.expiredEvents += lost.to - lost.from + 1;
        await this.cursors.updateOne({ _id: name }, { $set: { seq: cursor, updatedAt: new Date() } }, { upsert: true });
        gapSince = null;
        continue;
      }
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

export interface OutboxRetentionOptions {
  /** Events older than this may be pruned (FOLIO_OUTBOX_RETENTION_HOURS). */
  readonly maxAgeMs: number;
  /** At most this many events are kept, whatever their age (FOLIO_OUTBOX_MAX_EVENTS). */
  readonly maxEvents: number;
  /** Events examined and deleted per slice; slices yield to the event loop. @default 500 */
  readonly sliceSize?: number;
  /** Time between pruning runs. @default 60 s */
  readonly intervalMs?: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * Told of each slice's events before they are deleted (after the floor is raised), so a
   * producer can record what goes: ugc raises each user's sync watermark (CURSOR_EXPIRED).
   */
  readonly beforePrune?: (db: FolioDb, events: ReadonlyArray<{ seq: number; payload: Record<string, unknown> }>) => Promise<void>;
}

/** What one pruning run did. */
export interface PruneResult {
  readonly pruned: number;
  readonly floor: number;
  /** Consumers whose unread events had to go (count bound): they are told on their next read. */
  readonly expiredConsumers: string[];
}

/**
 * Prunes a producer's outbox in the background (see the header: window, count bound, consumer
 * cursors). Runs every `intervalMs`, in slices of `sliceSize` point deletes by `_id` (cheap on
 * both backends), raising the sequence doc's `floor` before each slice is deleted so that
 * `oldestKeptSeq()` is never above what a reader might still find.
 */
export class OutboxRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly db: FolioDb,
    private readonly options: OutboxRetentionOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.running = this.prune()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'outbox pruning failed; will retry'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 60_000).unref();
        });
    };
    this.timer = setTimeout(tick, Math.min(this.options.intervalMs ?? 60_000, 5_000)).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pruning run, slice by slice, until nothing more may go. */
  async prune(): Promise<PruneResult> {
    const { maxAgeMs, maxEvents, logger } = this.options;
    const slice = this.options.sliceSize ?? 500;
    const now = this.options.now?.() ?? Date.now();
    const seqs = this.db.collection<SequenceDoc>('outbox_sequence');
    const outbox = this.db.collection<OutboxDoc>('outbox');
    const seqDoc = await seqs.findOne({ _id: 'outbox' });
    if (!seqDoc) return { pruned: 0, floor: 0, expiredConsumers: [] };
    const head = seqDoc.seq;
    let floor = seqDoc.floor ?? 0;
    // Past this, events go whatever their age and whoever has not read them (memory bound).
    const countFloor = head - maxEvents;
    // Consumers seen within the window hold back age-based pruning at their cursor.
    const consumers = await this.db.collection<ConsumerDoc>('outbox_consumers').find({}).toArray();
    const active = consumers.filter((c) => now - c.seenAt.getTime() <= maxAgeMs);
    const hold = active.length > 0 ? Math.min(...active.map((c) => c.cursor)) : Infinity;
    const cutoff = new Date(now - maxAgeMs);
    let pruned = 0;
    const expired = new Set<string>();
    while (floor < head && !this.stopped) {
      const ids = Array.from({ length: Math.min(slice, head - floor) }, (_, i) => floor + 1 + i);
      const docs = await outbox.find({ _id: { $in: ids } }, { projection: this.options.beforePrune ? { createdAt: 1, payload: 1 } : { createdAt: 1 } }).toArray();
      const createdAt = new Map(docs.map((d) => [d._id, d.createdAt]));
      let next = floor;
      for (const id of ids) {
        const at = createdAt.get(id);
        const byCount = id <= countFloor;
        // A missing seq (rolled back, or still committing) goes only with a prunable event after it.
        const byAge = at !== undefined && at < cutoff && id <= hold;
        if (byCount || byAge) next = id;
        else if (at !== undefined) break;
      }
      if (next === floor) break;
      for (const c of consumers) if (c.cursor < next && !expired.has(c._id)) expired.add(c._id);
      // Floor first: a reader never learns of an oldest seq above what is still there.
      await seqs.updateOne({ _id: 'outbox' }, { $max: { floor: next } });
      await this.options.beforePrune?.(this.db, docs.filter((d) => d._id <= next).map((d) => ({ seq: d._id, payload: d.payload })));
      const gone = await outbox.deleteMany({ _id: { $in: ids.filter((id) => id <= next) } });
      pruned += gone.deletedCount;
      floor = next;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (expired.size > 0) {
      const names = [...expired];
      await this.db
        .collection<ConsumerDoc>('outbox_consumers')
        .updateMany({ _id: { $in: names } }, { $set: { expired: { at: new Date(now), lostUpTo: floor } } });
      logger.warn({ consumers: names, floor }, 'outbox pruning passed consumers\' cursors (count bound): they are told on their next read');
    }
    if (pruned > 0) logger.info({ pruned, floor, head }, 'outbox pruned');
    return { pruned, floor, expiredConsumers: [...expired] };
  }
}
