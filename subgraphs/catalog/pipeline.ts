/**
 * The content pipeline: an upload becomes a job (QUEUED), a worker claims it and walks it through
 * FORMATTING → PARSING → SPLITTING (the EPUB parser's stages) → STORED, or FAILED with a reason.
 *
 * Jobs are claimed with a lease kept on the job itself (lib/leases.ts LeaseFields: one
 * findOneAndUpdate picks the oldest free job and leases it), so
 * any number of catalog processes can run workers and a job whose worker died is taken over
 * after the lease runs out. The revision id is fixed when the job is created: a retried job
 * rewrites the same revision's chapters instead of leaving orphans. A stored revision is only a
 * draft; nothing here touches what readers see (publishing does), so a failed upload can never
 * damage the published revision.
 */
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Outbox } from '../../lib/events.js';
import type { WorkerIdentity } from '../../lib/instance.js';
import { LeaseFields, leaseOwnerOf } from '../../lib/leases.js';
import type { Logger } from '../../lib/logger.js';
import { WorkerLoop } from '../../lib/workerLoop.js';
import { isStorageFullError, ObjectId } from '../../lib/storage/index.js';
import { isEpubError } from './epub/errors.js';
import type { EpubLimits } from './epub/limits.js';
import { parseEpub, type ParsedEpub } from './epub/parse.js';
import { parseEpubOffThread } from './epub/offThread.js';
import type { WorkerPool } from '../../lib/workers/index.js';
import type { FileStore } from './files.js';
import type { BookDoc, CatalogStore, ChapterDoc, CoverDoc, JobDoc, JobStatus, RevisionDoc } from './store.js';
import { splitChapter } from './chapterBodies.js';
import { imageDimensions } from './covers.js';

export interface PipelineOptions {
  readonly logger: Logger;
  readonly limits?: Partial<EpubLimits>;
  /** How long a claimed job stays with its worker without renewal. @default 60 s */
  readonly leaseMs?: number;
  /** Idle workers look for jobs this often (new uploads in this process wake them at once). @default 1 s */
  readonly pollMs?: number;
  /** A job whose worker died this many times fails instead of being retried. @default 3 */
  readonly maxAttempts?: number;
  /** While the store keeps failing, the worker waits pollMs, 2×, 4×, … up to this long between tries. @default 30 s */
  readonly maxBackoffMs?: number;
  /** This instance across restarts: jobs an earlier run of it held are taken back at start-up. @default a one-off owner */
  readonly identity?: WorkerIdentity;
  /** Parses on this pool's threads (the event loop keeps serving meanwhile); inline without one. */
  readonly workers?: WorkerPool;
  /**
   * Catalog's outbox: every status change of a job (queued, each stage, STORED, FAILED) writes an
   * UploadJobUpdated event in the same transaction (the gateway's `uploadJobUpdated` follows them).
   */
  readonly outbox?: Outbox;
}

/**
 * The outbox event of a job's status change. No user id (the gateway hands it to the job's
 * subscribers) and no book id (consumers that follow a book's events have nothing to do for it).
 */
export const UPLOAD_JOB_UPDATED = 'UploadJobUpdated';
const jobEvent = (job: Pick<JobDoc, '_id'>, status: JobStatus): Record<string, unknown> => ({ jobId: job._id, status });

const RUNNING: JobStatus[] = ['FORMATTING', 'PARSING', 'SPLITTING'];
/** A job's lease is kept on the job, so claiming picks the oldest free job and leases it in one update. */
const JOB_LEASE = new LeaseFields<JobDoc>('leaseOwner', 'leaseUntil');
/** Chapters per journal write when a revision is stored (see storeRevision). */
const STORE_CHAPTER_BATCH = 5;

export const chapterId = (revisionId: string, index: number): string => `${revisionId}.c${index}`;

/**
 * A job whose worker stopped mid-way and that nobody has resumed yet: marked so at start-up by
 * the restarted instance, or seen from its lease running out without renewal (another instance died).
 */
export const isInterrupted = (job: Pick<JobDoc, 'status' | 'leaseUntil' | 'interrupted'>, now: Date): boolean =>
  // Only a running job can be waiting to resume: the mark outlives a job that then failed without
  // entering a stage (too many attempts), and a finished job must not read as interrupted.
  RUNNING.includes(job.status) && (job.interrupted === true || JOB_LEASE.expired(job as JobDoc, now));

export class UploadPipeline {
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  /** Jobs whose lease this worker holds but that stopped on a storage failure: claimable again at once. */
  private readonly stalled = new Set<string>();
  private readonly loop: WorkerLoop;

  constructor(
    private readonly store: CatalogStore,
    private readonly files: FileStore,
    private readonly options: PipelineOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.owner = leaseOwnerOf(options.identity);
    this.loop = new WorkerLoop({
      name: 'upload worker',
      logger: options.logger,
      pollMs: options.pollMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      recover: () => this.recoverInterrupted(),
      step: () => this.runNext(),
    });
  }

  /** Stores the bytes and queues a job; the worker picks it up. */
  async enqueue(bookId: string, bytes: Buffer, createdBy: string): Promise<JobDoc> {
    const file = await this.files.put(bytes);
    const now = new Date();
    const job: JobDoc = {
      _id: new ObjectId().toHexString(),
      bookId,
      status: 'QUEUED',
      stages: [{ stage: 'QUEUED', startedAt: now }],
      failureCode: null,
      failureReason: null,
      revisionId: new ObjectId().toHexString(),
      fileId: file._id,
      sizeBytes: file.sizeBytes,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: null,
      createdBy,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    await this.jobWrite(job, 'QUEUED', async (jobs) => {
      await jobs.insertOne(job);
      return true;
    });
    this.kick();
    return job;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Wakes an idle worker (a job was queued in this process). */
  kick(): void {
    this.loop.kick();
  }

  /**
   * Start-up: the jobs an earlier run of this instance held when it died are freed now rather
   * than when their lease runs out (a crashed upload showed PARSING for a minute), and those it had
   * started say `interrupted` until a worker resumes them.
   */
  private async recoverInterrupted(): Promise<void> {
    const orphans = await JOB_LEASE.heldByPreviousSelf(this.store.jobs, this.options.identity, { status: { $in: ['QUEUED', ...RUNNING] } });
    for (const job of orphans) {
      await this.store.jobs.updateOne(
        { _id: job._id, ...JOB_LEASE.heldBy(job.leaseOwner!) },
        { $set: { ...JOB_LEASE.released(), interrupted: RUNNING.includes(job.status), updatedAt: new Date() } },
      );
    }
    if (orphans.length > 0) this.options.logger.info({ jobs: orphans.map((j) => j._id) }, 'resuming upload jobs interrupted by a restart');
  }

  /** Claims and runs the oldest runnable job; false when there was none. */
  async runNext(): Promise<boolean> {
    const job = await this.claim();
    if (!job) return false;
    await this.run(job);
    return true;
  }

  /** Runs one job to its end here, or waits for the worker that claimed it (bulk ingest, demo seeding). */
  async runJob(jobId: string): Promise<JobDoc> {
    const job = await this.claim(jobId);
    if (job) await this.run(job);
    return this.waitFor(jobId);
  }

  private claim(jobId?: string): Promise<JobDoc | null> {
    const now = new Date();
    return this.store.jobs.findOneAndUpdate(
      {
        ...(jobId ? { _id: jobId } : {}),
        // A job is free when nobody holds its lease, or the holder stopped renewing it. A claimed job
        // stays QUEUED until its first stage, so the status alone does not say it is free.
        status: { $in: ['QUEUED', ...RUNNING] },
        // Not re-entrant otherwise: this owner may be running that job in another call (runJob).
        $or: [...JOB_LEASE.free(now), ...(this.stalled.size > 0 ? [{ _id: { $in: [...this.stalled] }, ...JOB_LEASE.heldBy(this.owner) }] : [])],
      },
      { $set: { ...JOB_LEASE.take(this.owner, now, this.leaseMs), updatedAt: now }, $inc: { attempts: 1 } },
      { sort: { createdAt: 1 }, returnDocument: 'after' },
    );
  }

  /** Records a stage and renews the lease; false when another worker took the job over. */
  private async enter(job: JobDoc, stage: JobStatus): Promise<void> {
    const now = new Date();
    const held = await this.jobWrite(job, stage, async (jobs) => {
      const result = await jobs.updateOne(
        { _id: job._id, ...JOB_LEASE.heldBy(this.owner) },
        { $set: { status: stage, interrupted: false, updatedAt: now, ...JOB_LEASE.take(this.owner, now, this.leaseMs) }, $push: { stages: { stage, startedAt: now } } },
      );
      return result.matchedCount > 0;
    });
    if (!held) throw new LeaseLost(job._id);
  }

  /** A write to one job, with its UploadJobUpdated event in the same transaction when it changed something. */
  private async jobWrite(job: Pick<JobDoc, '_id' | 'bookId'>, status: JobStatus, write: (jobs: CatalogStore['jobs']) => Promise<boolean>): Promise<boolean> {
    const { outbox } = this.options;
    if (!outbox) return write(this.store.jobs);
    return outbox.publish(async (tx, emit) => {
      const changed = await write(tx.collection<JobDoc>(this.store.jobs.collectionName));
      if (changed) await emit(UPLOAD_JOB_UPDATED, jobEvent(job, status));
      return changed;
    });
  }

  private async run(job: JobDoc): Promise<void> {
    const { logger } = this.options;
    this.stalled.delete(job._id);
    try {
      if (job.attempts > this.maxAttempts) throw new JobFailure('WORKER_FAILED', `Processing stopped ${this.maxAttempts} times without finishing; upload the file again.`);
      const bytes = await this.files.read(job.fileId);
      const onStage = { onStage: (stage: JobStatus) => this.enter(job, stage) };
      const { workers, limits = {} } = this.options;
      const parsed = await (workers ? parseEpubOffThread(workers, bytes, limits, onStage) : parseEpub(bytes, limits, onStage));
      await this.storeRevision(job, parsed);
      logger.info({ jobId: job._id, bookId: job.bookId, revisionId: job.revisionId, chapters: parsed.chapters.length, warnings: parsed.warnings.length }, 'upload stored');
    } catch (error) {
      if (error instanceof LeaseLost) {
        logger.warn({ jobId: job._id }, 'upload job taken over by another worker');
        return;
      }
      if (isStorageFullError(error)) {
        // Not the upload's fault, and recording a failure would fail too: keep the job (and its
        // lease) and let the worker back off and resume it when the store takes writes again.
        this.stalled.add(job._id);
        throw error;
      }
      const code = isEpubError(error) ? error.reason : error instanceof JobFailure ? error.code : 'INTERNAL';
      const reason = isEpubError(error) || error instanceof JobFailure ? error.message : 'The upload could not be processed because of an internal error; try again.';
      if (code === 'INTERNAL') logger.error({ err: error, jobId: job._id }, 'upload job failed');
      await this.fail(job, code, reason);
    }
  }

  private async storeRevision(job: JobDoc, parsed: ParsedEpub): Promise<void> {
    const { chapters, chapterParts, revisions, books, jobs, db } = this.store;
    const file = await this.files.get(job.fileId);
    if (!file) throw new Error(`file ${job.fileId} missing`);
    const docs: ChapterDoc[] = parsed.chapters.map((c) => ({
      _id: chapterId(job.revisionId, c.index),
      bookId: job.bookId,
      revisionId: job.revisionId,
      index: c.index,
      title: c.title,
      text: c.text,
      html: c.html,
      wordCount: c.wordCount,
      contentHash: c.contentHash,
      paragraphCount: c.paragraphs.length,
      paragraphs: c.paragraphs.map((p) => ({ index: p.index, startOffset: p.startOffset, endOffset: p.endOffset })),
    }));
    // A previous attempt may have written some of them.
    await this.deleteChapters(job.revisionId);
    // Small batches with a yield between them: serialising 50 chapters into the journal blocked
    // the loop for ~0.5 s on a 100,000-paragraph book; 5 keep each slice to tens of ms.
    for (let i = 0; i < docs.length; i += STORE_CHAPTER_BATCH) {
      const split = docs.slice(i, i + STORE_CHAPTER_BATCH).map((doc) => splitChapter(doc));
      // Continuations first: a chapter document never points at parts that are not there yet.
      for (const { parts } of split) {
        for (const part of parts) await chapterParts.insertOne(part);
      }
      await chapters.insertMany(split.map(({ chapter }) => chapter));
      await yieldToEventLoop();
    }
    const cover = parsed.coverImage ? await this.storeCover(parsed.coverImage) : undefined;

    const now = new Date();
    await db.transaction(async (tx) => {
      const txBooks = tx.collection<BookDoc>(books.collectionName);
      const book = await txBooks.findOneAndUpdate(
        { _id: job.bookId },
        { $inc: { revisionCount: 1 }, $set: { latestRevisionId: job.revisionId, updatedAt: now } },
        { returnDocument: 'after' },
      );
      if (!book) throw new JobFailure('BOOK_GONE', 'The book no longer exists.');
      if (book.metadataFromContent) {
        const m = parsed.metadata;
        await txBooks.updateOne(
          { _id: book._id },
          {
            $set: {
              title: m.title || book.title,
              sortKey: `${(m.title || book.title).toLowerCase()}\u0000${book._id}`,
              authors: m.authors,
              authorKeys: m.authors.map((a) => a.toLowerCase()),
              language: m.language,
              description: m.description ?? null,
              isbn: m.isbn ?? null,
              tags: [...new Set(m.subjects.map((s) => s.toLowerCase()))].slice(0, 20),
              metadataFromContent: false,
            },
          },
        );
      }
      const revision: RevisionDoc = {
        _id: job.revisionId,
        bookId: job.bookId,
        number: book.revisionCount,
        contentHash: parsed.contentHash,
        chapterCount: docs.length,
        paragraphCount: docs.reduce((n, c) => n + c.paragraphCount, 0),
        wordCount: parsed.wordCount,
        fileId: file._id,
        sizeBytes: file.sizeBytes,
        sha256: file.sha256,
        language: parsed.metadata.language,
        jobId: job._id,
        createdBy: job.createdBy,
        createdAt: now,
        publishedAt: null,
        ...(cover ? { cover } : {}),
      };
      await tx.collection<RevisionDoc>(revisions.collectionName).insertOne(revision);
      const stored = await tx.collection<JobDoc>(jobs.collectionName).updateOne(
        { _id: job._id, ...JOB_LEASE.heldBy(this.owner) },
        {
          $set: { status: 'STORED', updatedAt: now, finishedAt: now, ...JOB_LEASE.released(), warnings: parsed.warnings.map(({ code, message }) => ({ code, message })) },
          $push: { stages: { stage: 'STORED', startedAt: now } },
        },
      );
      if (stored.matchedCount === 0) throw new LeaseLost(job._id);
      if (this.options.outbox) await this.options.outbox.append(tx, UPLOAD_JOB_UPDATED, jobEvent(job, 'STORED'));
    });
    this.options.outbox?.notify();
  }

  private async fail(job: JobDoc, code: string, reason: string): Promise<void> {
    const now = new Date();
    const failed = await this.jobWrite(job, 'FAILED', async (jobs) => {
      const result = await jobs.updateOne(
        { _id: job._id, ...JOB_LEASE.heldBy(this.owner) },
        {
          $set: { status: 'FAILED', failureCode: code, failureReason: reason.slice(0, 1_000), interrupted: false, updatedAt: now, finishedAt: now, ...JOB_LEASE.released() },
          $push: { stages: { stage: 'FAILED', startedAt: now } },
        },
      );
      return result.matchedCount > 0;
    });
    if (!failed) return;
    // The refused bytes and any half-written chapters are of no further use.
    await this.deleteChapters(job.revisionId);
    await this.files.delete(job.fileId);
  }

  private async deleteChapters(revisionId: string): Promise<void> {
    await this.store.chapters.deleteMany({ revisionId });
    await this.store.chapterParts.deleteMany({ revisionId });
  }

  /** The EPUB's cover image as a file of its own, with its pixel size when the header says it. */
  private async storeCover(image: NonNullable<ParsedEpub['coverImage']>): Promise<CoverDoc> {
    const file = await this.files.put(image.bytes);
    const size = imageDimensions(image.bytes);
    return { fileId: file._id, mediaType: image.mediaType, sizeBytes: file.sizeBytes, width: size?.width ?? null, height: size?.height ?? null };
  }

  /** Waits until a job is STORED or FAILED. */
  async waitFor(jobId: string, timeoutMs = 60_000): Promise<JobDoc> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.store.jobs.findOne({ _id: jobId });
      if (job && (job.status === 'STORED' || job.status === 'FAILED')) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

class LeaseLost extends Error {
  constructor(jobId: string) {
    super(`lease on job ${jobId} lost`);
  }
}

class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
