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
import type { AnyBulkWriteOperation } from '../../../lib/storage/types.js';
import type { CatalogApi } from '../catalogClient.js';
import { noteWrittenEvent } from '../service/annotations.js';
import { collectionsOf, type HighlightDoc, type NoteDoc, type PassageDoc, type RepairJobDoc, type RepairPhase, type UgcStore } from '../store.js';
import { planBatch, RepairTarget } from './batch.js';

export interface RepairWorkerOptions {
  readonly store: UgcStore;
  readonly outbox: Outbox;
  readonly catalog: CatalogApi;
  readonly leases: LeaseManager;
  readonly logger: Logger;
  /** Documents per batch (one transaction each). @default 500 */
  readonly batchSize?: number;
  /** Lease lifetime; renewed before every batch, so a batch must finish well within it. @default 30 s */
  readonly leaseTtlMs?: number;
  /** How often unfinished jobs are looked for (besides `kick()`). @default 2 s */
  readonly pollMs?: number;
  /** A job failing this many times is marked FAILED. @default 5 */
  readonly maxAttempts?: number;
}

export interface RunOptions {
  /**
   * Test hook that simulates a crash: stop after this many batches without finishing the job
   * or releasing the lease (it expires, as a dead process's would).
   */
  readonly crashAfterBatches?: number;
}

export type RunOutcome = 'done' | 'noop' | 'busy' | 'crashed' | 'lost-lease' | 'failed' | 'retry';

const PHASES: readonly RepairPhase[] = ['highlights', 'notes', 'done'];

export class RepairWorker {
  private readonly batchSize: number;
  private readonly leaseTtlMs: number;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: RepairWorkerOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Look for work now (a job was just enqueued). */
  kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runPending();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'repair worker pass failed');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs ?? 2_000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Runs every unfinished job whose lease is free; returns what happened to each. */
  async runPending(): Promise<Map<string, RunOutcome>> {
    const jobs = await this.options.store.repairJobs.find({ status: { $in: ['PENDING', 'RUNNING'] } }).sort({ createdAt: 1 }).limit(50).toArray();
    const outcomes = new Map<string, RunOutcome>();
    for (const job of jobs) {
      if (this.stopped && this.loop) break;
      outcomes.set(job._id, await this.runJob(job._id));
    }
    return outcomes;
  }

  async runJob(jobId: string, runOptions: RunOptions = {}): Promise<RunOutcome> {
    const { store, leases, logger } = this.options;
    const first = await store.repairJobs.findOne({ _id: jobId });
    if (!first || !['PENDING', 'RUNNING'].includes(first.status)) return 'noop';
    const lease = await leases.tryAcquire(`repair:${first.bookId}`, { ttlMs: this.leaseTtlMs, autoRenew: false });
    if (!lease) return 'busy';
    let crashed = false;
    const started = Date.now();
    try {
      // Re-read under the lease: another worker may have finished it meanwhile.
      const job = await store.repairJobs.findOne({ _id: jobId });
      if (!job || !['PENDING', 'RUNNING'].includes(job.status)) return 'noop';
      const newer = await store.repairJobs.findOne({ bookId: job.bookId, createdAt: { $gt: job.createdAt } });
      if (newer) {
        // The newer job re-anchors everything not yet on its revision, this job's work included.
        await store.repairJobs.updateOne({ _id: jobId }, { $set: { status: 'SUPERSEDED', finishedAt: new Date() } });
        return 'noop';
      }
      await store.repairJobs.updateOne({ _id: jobId }, { $set: { status: 'RUNNING', startedAt: job.startedAt ?? new Date(), error: null }, $inc: { attempts: 1 } });
      const target = await this.prepare(job);

      let phase = job.phase;
      let cursor = job.cursor;
      let batches = 0;
      while (phase !== 'done') {
        if (runOptions.crashAfterBatches !== undefined && batches >= runOptions.crashAfterBatches) {
          crashed = true;
          return 'crashed';
        }
        if (this.stopped && this.loop) return 'retry';
        if (!(await lease.renew())) return 'lost-lease';
        const batchStart = Date.now();
        const next = await this.runBatch(job, target, phase, cursor);
        if (next === null) {
          phase = PHASES[PHASES.indexOf(phase) + 1]!;
          cursor = null;
          await store.repairJobs.updateOne({ _id: jobId }, { $set: { phase, cursor: null } });
        } else {
          cursor = next;
          batches += 1;
        }
        await store.repairJobs.updateOne({ _id: jobId }, { $inc: { workMs: Date.now() - batchStart } });
      }
      await store.repairJobs.updateOne({ _id: jobId }, { $set: { status: 'DONE', finishedAt: new Date() } });
      logger.info({ jobId, ms: Date.now() - started }, 'repair job done');
      return 'done';
    } catch (error) {
      const attempts = ((await store.repairJobs.findOne({ _id: jobId }))?.attempts ?? 0);
      const failed = attempts >= (this.options.maxAttempts ?? 5);
      logger.warn({ err: error, jobId, attempts }, failed ? 'repair job failed' : 'repair job attempt failed; will retry');
      await store.repairJobs.updateOne({ _id: jobId }, { $set: { error: String((error as Error)?.message ?? error).slice(0, 500), ...(failed ? { status: 'FAILED', finishedAt: new Date() } : {}) } });
      return failed ? 'failed' : 'retry';
    } finally {
      if (!crashed) await lease.release().catch(() => undefined);
    }
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
   * Re-anchors the next batch of `phase` after `cursor` and commits it with the job's progress.
   * Returns the new cursor, or null when the phase has nothing left.
   */
  private async runBatch(job: RepairJobDoc, target: RepairTarget, phase: RepairPhase, cursor: string | null): Promise<string | null> {
    const { store, outbox } = this.options;
    const filter = { bookId: job.bookId, ...(cursor === null ? {} : { _id: { $gt: cursor } }) };
    const docs =
      phase === 'highlights'
        ? await store.highlights.find(filter).sort({ _id: 1 }).limit(this.batchSize).toArray()
        : await store.notes.find(filter).sort({ _id: 1 }).limit(this.batchSize).toArray();
    if (docs.length === 0) return null;
    const last = docs[docs.length - 1]!._id;
    const plan = phase === 'highlights' ? planBatch(target, docs as HighlightDoc[], 'highlights') : planBatch(target, docs as NoteDoc[], 'notes');

    await outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      // Each update is guarded by the revision it was planned from, so a document changed
      // meanwhile (or a batch replayed) is never moved twice.
      const ops = plan.updates.map((u) => ({ updateOne: { filter: { _id: u._id, revisionId: u.fromRevisionId }, update: { $set: u.set } } }));
      if (ops.length > 0) {
        if (phase === 'highlights') await c.highlights.bulkWrite(ops as AnyBulkWriteOperation<HighlightDoc>[], { ordered: false });
        else await c.notes.bulkWrite(ops as AnyBulkWriteOperation<NoteDoc>[], { ordered: false });
      }
      const passageOps: AnyBulkWriteOperation<PassageDoc>[] = [];
      for (const [key, { delta, passage }] of plan.passageDeltas) {
        if (delta === 0) continue;
        passageOps.push({
          updateOne: {
            filter: { _id: key },
            update: { $inc: { count: delta }, $setOnInsert: { bookId: passage.bookId, chapterId: passage.chapterId, start: passage.start, end: passage.end, exact: passage.exact } },
            upsert: true,
          },
        });
      }
      if (passageOps.length > 0) await c.passages.bulkWrite(passageOps, { ordered: false });
      for (const note of plan.changedNotes) await emit('NoteWritten', noteWrittenEvent(note));
      await c.repairJobs.updateOne(
        { _id: job._id },
        { $set: { cursor: last }, $inc: { moved: plan.counts.moved, unchanged: plan.counts.unchanged, orphaned: plan.counts.orphaned, batches: 1 } },
      );
    });
    return last;
  }
}
