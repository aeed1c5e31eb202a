/**
 * The repair worker: re-anchors every highlight and note of a book after its content was
 * replaced. One worker per book at a time (a lease named `repair:<bookId>`), documents streamed
 * in `_id` order in batches, and each batch's writes, popular-passage counts, NoteWritten events
 * and the job's progress committed in one transaction. So a worker that dies mid-job loses
 * nothing: its lease expires and the next worker resumes after the last committed batch, and a
 * finished job is a no-op.
 */
import type { Outbox } from '../../../lib/events.js';
import type { LeaseManager } from '../../../lib/leases.js';
import type { Logger } from '../../../lib/logger.js';
import { WorkerLoop } from '../../../lib/workerLoop.js';
import { isDuplicateKeyError } from '../../../lib/storage/index.js';
import type { AnyBulkWriteOperation, DocCollection, UpdateFilter } from '../../../lib/storage/types.js';
import type { CatalogApi } from '../catalogClient.js';
import { noteWrittenEvent } from '../service/annotations.js';
import { collectionsOf, type PassageDoc, type PassageReaderDoc, type RepairJobDoc, type RepairPhase, type UgcStore } from '../store.js';
import { planBatchInSlices, RepairTarget, type BatchCounts } from './batch.js';
import { REPAIR_JOB_UPDATED, repairJobEvent, repairLeaseName } from './jobs.js';

export interface RepairWorkerOptions {
  readonly store: UgcStore;
  readonly outbox: Outbox;
  readonly catalog: CatalogApi;
  readonly leases: LeaseManager;
  readonly logger: Logger;
  /** Documents per batch (one transaction each). @default 1000 */
  readonly batchSize?: number;
  /** Lease lifetime; renewed before every batch, so a batch must finish well within it. @default 30 s */
  readonly leaseTtlMs?: number;
  /** How often unfinished jobs are looked for (besides `kick()`). @default 2 s */
  readonly pollMs?: number;
  /** A job failing this many times is marked FAILED. @default 5 */
  readonly maxAttempts?: number;
}

export type RunOutcome = 'done' | 'noop' | 'busy' | 'lost-lease' | 'failed' | 'retry';

const PHASES: readonly RepairPhase[] = ['highlights', 'notes', 'passages', 'done'];
/** Ids listed per listing query (see IdStream). */
const ID_CHUNK = 50_000;

export class RepairWorker {
  private readonly batchSize: number;
  private readonly leaseTtlMs: number;
  private readonly loop: WorkerLoop;

  constructor(private readonly options: RepairWorkerOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.loop = new WorkerLoop({
      name: 'repair worker',
      logger: options.logger,
      pollMs: options.pollMs ?? 2_000,
      step: async () => {
        await this.runPending();
        return false;
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Look for work now (a job was just enqueued). */
  kick(): void {
    this.loop.kick();
  }

  /** Runs every unfinished job whose lease is free; returns what happened to each. */
  async runPending(): Promise<Map<string, RunOutcome>> {
    await this.backfillReaders();
    const jobs = await this.options.store.repairJobs.find({ status: { $in: ['PENDING', 'RUNNING'] } }).sort({ createdAt: 1 }).limit(50).toArray();
    const outcomes = new Map<string, RunOutcome>();
    for (const job of jobs) {
      if (this.loop.stopping) break;
      outcomes.set(job._id, await this.runJob(job._id));
    }
    return outcomes;
  }

  async runJob(jobId: string): Promise<RunOutcome> {
    const { store, leases, logger } = this.options;
    const first = await store.repairJobs.findOne({ _id: jobId });
    if (!first || !['PENDING', 'RUNNING'].includes(first.status)) return 'noop';
    const lease = await leases.tryAcquire(repairLeaseName(first.bookId), { ttlMs: this.leaseTtlMs, autoRenew: false });
    if (!lease) return 'busy';
    const started = Date.now();
    try {
      // Re-read under the lease: another worker may have finished it meanwhile.
      const job = await store.repairJobs.findOne({ _id: jobId });
      if (!job || !['PENDING', 'RUNNING'].includes(job.status)) return 'noop';
      const newer = await store.repairJobs.findOne({ bookId: job.bookId, createdAt: { $gt: job.createdAt } });
      if (newer) {
        // The newer job re-anchors everything not yet on its revision, this job's work included.
        await this.updateJob(job, { $set: { status: 'SUPERSEDED', finishedAt: new Date() } });
        return 'noop';
      }
      await this.updateJob(job, { $set: { status: 'RUNNING', startedAt: job.startedAt ?? new Date(), error: null, interrupted: false }, $inc: { attempts: 1 } });
      const target = await this.prepare(job);

      let phase = job.phase;
      let ids = phase === 'highlights' || phase === 'notes' ? this.idStream(job.bookId, phase, job.cursor) : null;
      while (phase !== 'done') {
        if (this.loop.stopping) return 'retry';
        if (!(await lease.renew())) return 'lost-lease';
        const batchStart = Date.now();
        const batch = ids ? await ids.next(this.batchSize) : [];
        if (ids && batch.length > 0) {
          await this.runBatch(job, target, phase as 'highlights' | 'notes', batch);
        } else {
          if (phase === 'passages') await this.rebuildPassages(job.bookId);
          phase = PHASES[PHASES.indexOf(phase) + 1]!;
          ids = phase === 'highlights' || phase === 'notes' ? this.idStream(job.bookId, phase, null) : null;
          await store.repairJobs.updateOne({ _id: jobId }, { $set: { phase, cursor: null } });
        }
        await store.repairJobs.updateOne({ _id: jobId }, { $inc: { workMs: Date.now() - batchStart } });
      }
      await this.updateJob(first, { $set: { status: 'DONE', finishedAt: new Date() } });
      logger.info({ jobId, ms: Date.now() - started }, 'repair job done');
      return 'done';
    } catch (error) {
      const attempts = ((await store.repairJobs.findOne({ _id: jobId }))?.attempts ?? 0);
      const failed = attempts >= (this.options.maxAttempts ?? 5);
      logger.warn({ err: error, jobId, attempts }, failed ? 'repair job failed' : 'repair job attempt failed; will retry');
      await this.updateJob(first, { $set: { error: String((error as Error)?.message ?? error).slice(0, 500), ...(failed ? { status: 'FAILED', finishedAt: new Date() } : {}) } });
      return failed ? 'failed' : 'retry';
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** A status change, with its RepairJobUpdated event in the same transaction (repairJobUpdated subscribers). */
  private async updateJob(job: Pick<RepairJobDoc, '_id' | 'bookId'>, update: UpdateFilter<RepairJobDoc>): Promise<void> {
    await this.options.outbox.publish(async (tx, emit) => {
      await collectionsOf(tx).repairJobs.updateOne({ _id: job._id }, update);
      await emit(REPAIR_JOB_UPDATED, repairJobEvent(job));
    });
  }

  private idStream(bookId: string, phase: 'highlights' | 'notes', after: string | null): IdStream {
    const { highlights, notes } = this.options.store;
    const list = async (from: string | null, limit: number): Promise<string[]> => {
      const filter = from === null ? { bookId } : { bookId, _id: { $gt: from } };
      const options = { projection: { _id: 1 } };
      const cursor = phase === 'highlights' ? highlights.find(filter, options) : notes.find(filter, options);
      return (await cursor.sort({ _id: 1 }).limit(limit).toArray()).map((d) => d._id);
    };
    return new IdStream(list, after, ID_CHUNK);
  }

  /** Fetches the new revision (to match against) and the old one (chapter positions, as hints). */
  private async prepare(job: RepairJobDoc): Promise<RepairTarget> {
    const [next, previous] = await Promise.all([
      this.options.catalog.revisionChapters(job.toRevisionId),
      this.options.catalog.revisionChapters(job.fromRevisionId).catch(() => null),
    ]);
    const oldIndex = new Map((previous?.chapters ?? []).map((c) => [c.id, c.index]));
    return new RepairTarget(next, oldIndex);
  }

  /**
   * Re-anchors the documents `ids` (the next batch of `phase`) and commits them with the job's
   * progress. They are read inside the transaction, so a concurrent edit (a colour change) is
   * never overwritten by the replacement.
   */
  private async runBatch(job: RepairJobDoc, target: RepairTarget, phase: 'highlights' | 'notes', ids: readonly string[]): Promise<void> {
    await this.options.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const progress = async (counts: BatchCounts): Promise<void> => {
        await c.repairJobs.updateOne(
          { _id: job._id },
          { $set: { cursor: ids[ids.length - 1]! }, $inc: { moved: counts.moved, unchanged: counts.unchanged, orphaned: counts.orphaned, batches: 1 } },
        );
      };
      if (phase === 'highlights') {
        const docs = await c.highlights.find({ _id: { $in: [...ids] } }).toArray();
        const plan = await planBatchInSlices(target, docs, 'highlights');
        if (plan.replacements.length > 0) await c.highlights.bulkWrite(plan.replacements.map(replaceOp), { ordered: false });
        await progress(plan.counts);
      } else {
        const docs = await c.notes.find({ _id: { $in: [...ids] } }).toArray();
        const plan = await planBatchInSlices(target, docs, 'notes');
        if (plan.replacements.length > 0) await c.notes.bulkWrite(plan.replacements.map(replaceOp), { ordered: false });
        for (const note of plan.changedNotes) await emit('NoteWritten', noteWrittenEvent(note));
        await progress(plan.counts);
      }
      await emit(REPAIR_JOB_UPDATED, repairJobEvent(job));
    });
  }

  /**
   * Passages counted before distinct readers were tracked (no `readers` field) are recounted once,
   * a book at a time under its repair lease; until then they are simply not shown as popular.
   */
  async backfillReaders(): Promise<number> {
    const { store, leases } = this.options;
    const bookIds = (await store.passages.distinct('bookId', { readers: { $exists: false } })) as string[];
    let done = 0;
    for (const bookId of bookIds.slice(0, 50)) {
      if (this.loop.stopping) break;
      const lease = await leases.tryAcquire(`repair:${bookId}`, { ttlMs: this.leaseTtlMs, autoRenew: true });
      if (!lease) continue;
      try {
        await this.rebuildPassages(bookId);
        done += 1;
      } finally {
        await lease.release().catch(() => undefined);
      }
    }
    return done;
  }

  /**
   * Recounts the book's popular passages from its placed highlights (their keys changed with the
   * chapter ids). Idempotent, so a crash here just runs it again. Not one transaction: on the
   * embedded engine a transaction holds every undo image and journals as one record, which for a
   * popular book means hundreds of MB; a highlight created meanwhile may be counted once less
   * until it is next re-counted, which a popularity ranking tolerates.
   */
  private async rebuildPassages(bookId: string): Promise<void> {
    const { passages, passageReaders, highlights } = this.options.store;
    await Promise.all([passages.deleteMany({ bookId }), passageReaders.deleteMany({ bookId })]);
    const match = { $match: { bookId, status: 'ACTIVE' } };
    const perReader = {
      $group: {
        _id: { k: '$passageKey', u: '$userId' },
        n: { $sum: 1 },
        bookId: { $first: '$bookId' },
        chapterId: { $first: '$chapterId' },
        start: { $first: '$start' },
        end: { $first: '$end' },
        exact: { $first: '$exact' },
      },
    };
    await insertAll(
      passageReaders,
      highlights.aggregate<PassageReaderDoc>([
        match,
        perReader,
        { $project: { _id: { $concat: ['$_id.k', '|', '$_id.u'] }, passageKey: '$_id.k', userId: '$_id.u', bookId: 1, count: '$n' } },
      ]),
    );
    await insertAll(
      passages,
      highlights.aggregate<PassageDoc>([
        match,
        perReader,
        {
          $group: {
            _id: '$_id.k',
            bookId: { $first: '$bookId' },
            chapterId: { $first: '$chapterId' },
            start: { $first: '$start' },
            end: { $first: '$end' },
            exact: { $first: '$exact' },
            count: { $sum: '$n' },
            readers: { $sum: 1 },
          },
        },
      ]),
    );
  }
}

/** Inserts a stream of rebuilt documents in batches; one that a concurrent highlight created meanwhile already counts it, and is kept. */
async function insertAll<T extends { _id: string }>(collection: DocCollection<T>, docs: AsyncIterable<T>): Promise<void> {
  let buffer: T[] = [];
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    try {
      await collection.insertMany(buffer as never, { ordered: false });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    buffer = [];
  };
  for await (const doc of docs) {
    buffer.push(doc);
    if (buffer.length >= 5_000) await flush();
  }
  await flush();
}

function replaceOp<T extends { _id: string }>(doc: T): AnyBulkWriteOperation<T> {
  const { _id, ...rest } = doc;
  return { replaceOne: { filter: { _id }, replacement: rest } } as AnyBulkWriteOperation<T>;
}

/**
 * The ids of one phase's documents after the cursor, in order, listed a chunk at a time: ids
 * only, so memory stays bounded, and few listing queries (on the embedded engine each one scans
 * the book's documents, so listing per batch would make the job quadratic).
 */
class IdStream {
  private buffer: string[] = [];
  private exhausted = false;

  constructor(
    private readonly list: (after: string | null, limit: number) => Promise<string[]>,
    private after: string | null,
    private readonly chunk: number,
  ) {}

  async next(size: number): Promise<string[]> {
    if (this.buffer.length < size && !this.exhausted) {
      const more = await this.list(this.buffer.at(-1) ?? this.after, this.chunk);
      if (more.length < this.chunk) this.exhausted = true;
      this.buffer.push(...more);
    }
    const out = this.buffer.splice(0, size);
    if (out.length > 0) this.after = out[out.length - 1]!;
    return out;
  }
}
