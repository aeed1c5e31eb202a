/** Repair job records: created from catalog's BookContentReplaced, read by editors. */
import type { Outbox } from '../../../lib/events.js';
import type { Caller } from '../../../lib/identity.js';
import { authorize, subjects } from '../policy.js';
import { isLeaseHeld, type LeaseManager } from '../../../lib/leases.js';
import { checkId } from '../service/common.js';
import { pairKey, type RepairJobDoc, type UgcStore } from '../store.js';

export interface ContentReplaced {
  readonly bookId: string;
  readonly previousRevisionId: string;
  readonly revisionId: string;
}

export const repairJobId = (bookId: string, revisionId: string): string => pairKey(bookId, revisionId);

/**
 * The outbox event written with every change of a job's status or progress (in the same
 * transaction): `repairJobUpdated(bookId)` at the gateway follows it. Not a user's own data, so no
 * `userId`: the gateway hands it to the book's subscribers, ugc's policy decides per subscriber.
 */
export const REPAIR_JOB_UPDATED = 'RepairJobUpdated';
export const repairJobEvent = (job: Pick<RepairJobDoc, '_id' | 'bookId'>): Record<string, unknown> => ({ jobId: job._id, bookId: job.bookId });

/** The lease one repair worker holds on a book while it re-anchors it. */
export const repairLeaseName = (bookId: string): string => `repair:${bookId}`;

/**
 * Start-up, before the repair worker and the event consumer start: frees the leases an earlier run
 * of this instance still held (a repair showed RUNNING for half a minute after a crash until its
 * lease expired), and the running jobs under them say `interrupted` until the worker resumes them.
 * Returns the names of the leases taken back.
 */
export async function takeBackPreviousRun(store: UgcStore, leases: LeaseManager): Promise<string[]> {
  const released = await leases.releasePreviousSelf();
  const bookIds = released.filter((n) => n.startsWith('repair:')).map((n) => n.slice('repair:'.length));
  if (bookIds.length > 0) await store.repairJobs.updateMany({ bookId: { $in: bookIds }, status: 'RUNNING' }, { $set: { interrupted: true } });
  return released;
}

/** A running job nobody works on: marked at start-up, or its worker's lease ran out without renewal. */
export async function isRepairInterrupted(store: UgcStore, job: RepairJobDoc): Promise<boolean> {
  if (job.status !== 'RUNNING') return false;
  return job.interrupted === true || !(await isLeaseHeld(store.db, repairLeaseName(job.bookId)));
}

/**
 * Records the job once: the event may be delivered again, and a finished job stays finished. With
 * `outbox`, a new job is announced (RepairJobUpdated) in the same transaction.
 */
export async function enqueueRepair(store: UgcStore, event: ContentReplaced, now = new Date(), outbox?: Outbox): Promise<RepairJobDoc> {
  const _id = repairJobId(event.bookId, event.revisionId);
  const doc: Omit<RepairJobDoc, '_id'> = {
    bookId: event.bookId,
    fromRevisionId: event.previousRevisionId,
    toRevisionId: event.revisionId,
    status: 'PENDING',
    phase: 'highlights',
    cursor: null,
    moved: 0,
    unchanged: 0,
    orphaned: 0,
    batches: 0,
    attempts: 0,
    error: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    workMs: 0,
  };
  if (outbox) {
    await outbox.publish(async (tx, emit) => {
      const written = await tx.collection<RepairJobDoc>(store.repairJobs.collectionName).updateOne({ _id }, { $setOnInsert: doc }, { upsert: true });
      if (written.upsertedCount > 0) await emit(REPAIR_JOB_UPDATED, repairJobEvent({ _id, bookId: doc.bookId }));
    });
  } else {
    await store.repairJobs.updateOne({ _id }, { $setOnInsert: doc }, { upsert: true });
  }
  return (await store.repairJobs.findOne({ _id }))!;
}

/** EDITOR/ADMIN: the book's most recent repair job. */
export async function latestRepairJob(store: UgcStore, caller: Caller, bookId: string): Promise<RepairJobDoc | null> {
  authorize(caller, 'read', subjects.repairJob);
  const [job] = await store.repairJobs.find({ bookId: checkId(bookId, 'bookId') }).sort({ createdAt: -1, _id: -1 }).limit(1).toArray();
  return job ?? null;
}

/** Parses the event payload; a malformed event is ignored (logged by the caller), not retried forever. */
export function parseContentReplaced(payload: Record<string, unknown>): ContentReplaced | null {
  const { bookId, previousRevisionId, revisionId } = payload;
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200 && !v.includes('|');
  return ok(bookId) && ok(previousRevisionId) && ok(revisionId) ? { bookId, previousRevisionId, revisionId } : null;
}
