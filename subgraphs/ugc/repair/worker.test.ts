import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerIdentity, type WorkerIdentity } from '../../../lib/instance.js';
import { LeaseManager } from '../../../lib/leases.js';
import { createLogger } from '../../../lib/logger.js';
import { nodesOf } from '../../../lib/pagination.js';
import { FreezingLeaseManager } from '../../../test/kit/freezingLeases.js';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';
import { enqueueRepair, isRepairInterrupted, latestRepairJob, takeBackPreviousRun } from './jobs.js';
import { RepairWorker, type RepairWorkerOptions } from './worker.js';

const PARAS = [
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.',
  'I thought I would sail about a little and see the watery part of the world.',
  'It is a way I have of driving off the spleen and regulating the circulation.',
  'Whenever I find myself growing grim about the mouth, I account it high time to get to sea.',
  'This is my substitute for pistol and ball, with a philosophical flourish Cato throws himself upon his sword.',
];
// Revision 2: a paragraph inserted at the top, the third one deleted, and a small edit in the last.
const PARAS_V2 = [
  'A new foreword, added by the editor for this edition of the book.',
  PARAS[0]!,
  PARAS[1]!,
  PARAS[3]!,
  PARAS[4]!.replace('philosophical flourish', 'philosophic flourish'),
];
const WORDS = ['never mind how long precisely', 'the watery part of the world', 'regulating the circulation', 'high time to get to sea', 'throws himself upon his sword'];

let ugc: TestUgc;
const silent = createLogger('repair-test', 'silent');
const workerOf = (overrides: Partial<RepairWorkerOptions> = {}) =>
  new RepairWorker({ store: ugc.store, outbox: ugc.outbox, catalog: ugc.catalog, leases: new LeaseManager(ugc.store.db), logger: silent, batchSize: 5, ...overrides });

beforeEach(async () => {
  ugc = await openTestUgc();
  ugc.catalog.addRevision('moby', 'r1', [PARAS, ['Chapter two is short.']]);
});
afterEach(async () => ugc.close());

const text1 = PARAS.join('\n\n');

/** n users each highlight every phrase, and write a note on the first. */
async function annotate(users: number): Promise<void> {
  for (let u = 0; u < users; u += 1) {
    const caller = userCaller(`u${u}`);
    for (const words of WORDS) {
      const start = text1.indexOf(words);
      const h = await ugc.annotations.createHighlight(caller, { chapterId: 'r1-c0', start, end: start + words.length });
      if (words === WORDS[0]) await ugc.annotations.createNote(caller, { highlightId: h._id, text: `note ${u}`, visibility: 'PUBLIC' });
    }
  }
}

async function replaceContent(): Promise<string> {
  ugc.catalog.addRevision('moby', 'r2', [PARAS_V2, ['Chapter two is short.']]);
  return (await enqueueRepair(ugc.store, { bookId: 'moby', previousRevisionId: 'r1', revisionId: 'r2' }))._id;
}

describe('repair worker', () => {
  it('re-anchors every highlight and note to the new revision: same words, orphans kept', async () => {
    await annotate(2);
    const jobId = await replaceContent();
    expect(await workerOf().runJob(jobId)).toBe('done');

    const text2 = PARAS_V2.join('\n\n');
    const highlights = await ugc.store.highlights.find({}).toArray();
    expect(highlights).toHaveLength(10);
    for (const h of highlights) {
      if (h.exact === 'regulating the circulation') {
        expect(h.status).toBe('ORPHANED'); // its paragraph was deleted: kept, marked
        continue;
      }
      expect(h).toMatchObject({ status: 'ACTIVE', revisionId: 'r2', chapterId: 'r2-c0' });
      expect(text2.slice(h.start, h.end)).toBe(h.exact);
    }
    const notes = await ugc.store.notes.find({}).toArray();
    expect(notes.every((n) => n.revisionId === 'r2' && n.paragraphId === 'r2-c0.p1' && text2.slice(n.start, n.end) === 'never mind how long precisely')).toBe(true);
    // Public notes follow their paragraph into the new revision.
    expect(nodesOf(await ugc.annotations.publicNotes(userCaller('someone'), 'r2-c0.p1', {}))).toHaveLength(2);

    const job = await latestRepairJob(ugc.store, userCaller('ed', ['EDITOR']), 'moby');
    expect(job).toMatchObject({ status: 'DONE', moved: 10, unchanged: 0, orphaned: 2 });
    await expect(latestRepairJob(ugc.store, userCaller('reader'), 'moby')).rejects.toMatchObject({ code: 'FORBIDDEN' });

    // Popular passages (and their distinct readers) moved with their highlights; orphans no longer count.
    const passages = await ugc.store.passages.find({ bookId: 'moby' }).toArray();
    expect(passages.map((p) => [p.exact, p.count, p.readers, p.chapterId]).sort()).toEqual(
      WORDS.filter((w) => w !== 'regulating the circulation').map((w) => [w, 2, 2, 'r2-c0']).sort(),
    );
    expect(await ugc.store.passageReaders.countDocuments({ bookId: 'moby' })).toBe(8);
    // Re-running a finished job changes nothing.
    expect(await workerOf().runJob(jobId)).toBe('noop');
    expect(await latestRepairJob(ugc.store, userCaller('ed', ['EDITOR']), 'moby')).toEqual(job);
  });

  it('resumes after a crash mid-job with nothing lost or doubled', async () => {
    await annotate(6); // 30 highlights + 6 notes = 8 batches of 5
    const jobId = await replaceContent();
    const eventsBefore = (await ugc.outbox.read(0, 500)).length;

    // The first worker's process freezes before its fourth batch (after three lease renewals).
    const freezing = new FreezingLeaseManager(ugc.store.db, 3);
    // A 1 s lease: long enough that the second worker's first try surely finds it held on a busy machine.
    void workerOf({ leaseTtlMs: 1_000, leases: freezing }).runJob(jobId);
    await freezing.frozen;
    const halfway = (await ugc.store.repairJobs.findOne({ _id: jobId }))!;
    expect(halfway).toMatchObject({ status: 'RUNNING', batches: 3 });
    expect(halfway.moved + halfway.unchanged + halfway.orphaned).toBe(15);

    // Another process: the dead worker's lease still holds, then expires.
    const second = workerOf({ leaseTtlMs: 1_000 });
    expect(await second.runJob(jobId)).toBe('busy');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await second.runJob(jobId)).toBe('done');

    const job = (await ugc.store.repairJobs.findOne({ _id: jobId }))!;
    expect(job).toMatchObject({ status: 'DONE', moved: 36 - 6, orphaned: 6, attempts: 2 });
    expect(job.moved + job.unchanged + job.orphaned).toBe(36);
    expect(await ugc.store.highlights.countDocuments({ revisionId: 'r2' })).toBe(30);
    expect(await ugc.store.notes.countDocuments({ revisionId: 'r2' })).toBe(6);
    const passages = await ugc.store.passages.find({ bookId: 'moby', count: { $ne: 0 } }).toArray();
    expect(passages.reduce((sum, p) => sum + p.count, 0)).toBe(24);
    expect(passages.every((p) => p.count === 6 && p.chapterId === 'r2-c0')).toBe(true);
    const noteEvents = (await ugc.outbox.read(eventsBefore, 500)).filter((e) => e.type === 'NoteWritten');
    expect(noteEvents).toHaveLength(6);
  });

  it('lets a newer replacement supersede an older pending job', async () => {
    await annotate(1);
    const old = await replaceContent();
    ugc.catalog.addRevision('moby', 'r3', [PARAS, ['Chapter two is short.']]);
    const newer = (await enqueueRepair(ugc.store, { bookId: 'moby', previousRevisionId: 'r2', revisionId: 'r3' }, new Date(Date.now() + 1000)))._id;
    const outcomes = await workerOf().runPending();
    expect(outcomes.get(old)).toBe('noop');
    expect(outcomes.get(newer)).toBe('done');
    expect((await ugc.store.repairJobs.findOne({ _id: old }))!.status).toBe('SUPERSEDED');
    expect(await ugc.store.highlights.countDocuments({ revisionId: 'r3', status: 'ACTIVE' })).toBe(5);
  });

  it('recounts distinct readers once for passages stored before readers were tracked', async () => {
    await annotate(3);
    // What an older version left: counts without readers, and no passage_readers rows.
    await ugc.store.passages.updateMany({ bookId: 'moby' }, { $unset: { readers: '' } });
    await ugc.store.passageReaders.deleteMany({ bookId: 'moby' });
    const worker = workerOf();
    expect(await worker.backfillReaders()).toBe(1);
    const passages = await ugc.store.passages.find({ bookId: 'moby' }).toArray();
    expect(passages.map((p) => [p.count, p.readers])).toEqual(WORDS.map(() => [3, 3]));
    expect(await ugc.store.passageReaders.countDocuments({ bookId: 'moby' })).toBe(15);
    expect(await worker.backfillReaders()).toBe(0);
  });

  it('retries when catalog is unreachable, then marks the job FAILED after maxAttempts', async () => {
    await annotate(1);
    const jobId = (await enqueueRepair(ugc.store, { bookId: 'moby', previousRevisionId: 'r1', revisionId: 'missing' }))._id;
    const worker = workerOf({ maxAttempts: 2 });
    expect(await worker.runJob(jobId)).toBe('retry');
    expect(await worker.runJob(jobId)).toBe('failed');
    expect(await ugc.store.highlights.countDocuments({ revisionId: 'r1' })).toBe(5);
  });
});

describe('repair worker restarted after a crash', () => {
  const identities: WorkerIdentity[] = [];
  afterEach(() => identities.splice(0).forEach((i) => i.release()));
  /** A run of `instanceId` (a new incarnation each call); a restarted process is a new one. */
  const runOf = (instanceId: string): WorkerIdentity => {
    const identity = workerIdentity({ instanceId, dataDir: os.tmpdir() });
    identities.push(identity);
    return identity;
  };
  /** The job as the API shows it: `repairJob(bookId) { status interrupted }`. */
  const shown = async (): Promise<{ status: string; interrupted: boolean }> => {
    const job = (await latestRepairJob(ugc.store, userCaller('ed', ['EDITOR']), 'moby'))!;
    return { status: job.status, interrupted: await isRepairInterrupted(ugc.store, job) };
  };

  it('takes back its dead run\'s job at once, shows it interrupted, and finishes it with nothing lost or doubled', async () => {
    await annotate(6); // 30 highlights + 6 notes = 8 batches of 5
    const jobId = await replaceContent();
    // Instance ugc-a freezes before its fourth batch, holding a 30 s lease nobody will renew.
    const deadRun = runOf('ugc-a');
    const freezing = new FreezingLeaseManager(ugc.store.db, 3, deadRun);
    void workerOf({ leaseTtlMs: 30_000, leases: freezing }).runJob(jobId);
    await freezing.frozen;
    // What the API showed for up to 30 s before: a job RUNNING that nobody works on.
    expect(await shown()).toEqual({ status: 'RUNNING', interrupted: false });
    deadRun.release(); // killed

    const restartedAt = Date.now();
    const leases = new LeaseManager(ugc.store.db, 'leases', runOf('ugc-a'));
    expect(await takeBackPreviousRun(ugc.store, leases)).toEqual(['repair:moby']);
    expect(await shown()).toEqual({ status: 'RUNNING', interrupted: true });
    expect(await workerOf({ leaseTtlMs: 30_000, leases }).runPending()).toEqual(new Map([[jobId, 'done']]));
    expect(Date.now() - restartedAt).toBeLessThan(10_000);

    expect(await shown()).toEqual({ status: 'DONE', interrupted: false });
    const job = (await ugc.store.repairJobs.findOne({ _id: jobId }))!;
    expect(job).toMatchObject({ status: 'DONE', moved: 36 - 6, orphaned: 6, attempts: 2, interrupted: false });
    expect(job.moved + job.unchanged + job.orphaned).toBe(36);
    expect(await ugc.store.highlights.countDocuments({ revisionId: 'r2' })).toBe(30);
    const passages = await ugc.store.passages.find({ bookId: 'moby', count: { $ne: 0 } }).toArray();
    expect(passages.reduce((sum, p) => sum + p.count, 0)).toBe(24);
  });

  it('leaves a job leased by another live instance alone until its lease expires', async () => {
    await annotate(2);
    const jobId = await replaceContent();
    const freezing = new FreezingLeaseManager(ugc.store.db, 1, runOf('ugc-b'));
    void workerOf({ leaseTtlMs: 1_500, leases: freezing }).runJob(jobId);
    await freezing.frozen;
    const frozenAt = Date.now();

    const leases = new LeaseManager(ugc.store.db, 'leases', runOf('ugc-a'));
    expect(await takeBackPreviousRun(ugc.store, leases)).toEqual([]);
    const worker = workerOf({ leaseTtlMs: 1_500, leases });
    expect(await worker.runJob(jobId)).toBe('busy');
    expect(await shown()).toEqual({ status: 'RUNNING', interrupted: false });

    await new Promise((r) => setTimeout(r, Math.max(0, 1_600 - (Date.now() - frozenAt))));
    // Its holder stopped renewing: now it reads interrupted, and is taken over.
    expect(await shown()).toEqual({ status: 'RUNNING', interrupted: true });
    expect(await worker.runJob(jobId)).toBe('done');
    expect(await ugc.store.repairJobs.findOne({ _id: jobId })).toMatchObject({ status: 'DONE', attempts: 2, moved: 10, orphaned: 2 });
  });
});
