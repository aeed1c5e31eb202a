/**
 * The upload worker after a crash: a restarted instance takes back the jobs its dead run held at
 * once (not when their 60 s lease runs out), and until a stage is entered again the job reads as
 * interrupted rather than as the stale stage; a job leased by another live instance is left alone
 * until its lease expires. The crash is the state a killed process leaves: a job in PARSING,
 * leased by an owner nobody renews.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../lib/config.js';
import type { Caller } from '../../lib/identity.js';
import { workerIdentity, type WorkerIdentity } from '../../lib/instance.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { FIXTURE_BOOK } from '../../test/kit/epubFixtures.js';
import { eventually } from '../../test/kit/eventually.js';
import { buildEpub } from './epub/build.js';
import { FileStore } from './files.js';
import { openCatalog, type CatalogRuntime } from './index.js';
import { isInterrupted, UPLOAD_JOB_UPDATED, UploadPipeline } from './pipeline.js';
import type { JobDoc } from './store.js';

const editor: Caller = { userId: 'editor-1', roles: ['READER', 'EDITOR'], sessionId: null, partnerId: null, scopes: [], clientAddress: 'test', territory: null };
const logger = createLogger('pipeline-recovery-test', 'silent');
const LEASE_MS = 60_000;

/** Reading a job's bytes waits for `open()`: the test looks at the job between claim and first stage. */
class GatedFiles extends FileStore {
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
  override async read(fileId: string): Promise<Buffer> {
    await this.gate;
    return super.read(fileId);
  }
}

let dir: string;
let storage: Storage;
let catalog: CatalogRuntime;
const identities: WorkerIdentity[] = [];
const pipelines: UploadPipeline[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'folio-pipeline-recovery-'));
  storage = await openStorage({ dataDir: dir });
  catalog = await openCatalog({ config: testConfig({ FOLIO_DATA_DIR: dir }), storage, logger });
});
afterEach(async () => {
  for (const p of pipelines.splice(0)) await p.stop();
  for (const i of identities.splice(0)) i.release();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A restarted worker of `instanceId` (a new incarnation), reading bytes through `files`. */
function restartedWorker(instanceId: string, files: FileStore): UploadPipeline {
  const identity = workerIdentity({ instanceId, dataDir: dir });
  identities.push(identity);
  const pipeline = new UploadPipeline(catalog.store, files, { logger, outbox: catalog.outbox, identity, pollMs: 20, leaseMs: LEASE_MS });
  pipelines.push(pipeline);
  return pipeline;
}

/** An upload whose worker (lease owner `owner`) died in PARSING with `leaseMs` of its lease left. */
async function crashedUpload(owner: string, leaseMs: number): Promise<JobDoc> {
  const book = await catalog.service.createBook(editor, { title: 'Fixture', authors: ['A. Writer'], language: 'en' });
  const job = await catalog.service.uploadContent(editor, book._id, (await buildEpub(FIXTURE_BOOK)).toString('base64'));
  const startedAt = new Date(Date.now() - 5_000);
  await catalog.store.jobs.updateOne(
    { _id: job._id },
    {
      $set: { status: 'PARSING', attempts: 1, leaseOwner: owner, leaseUntil: new Date(Date.now() + leaseMs), updatedAt: startedAt },
      $push: { stages: { $each: [{ stage: 'FORMATTING', startedAt }, { stage: 'PARSING', startedAt }] } },
    },
  );
  return (await catalog.store.jobs.findOne({ _id: job._id }))!;
}

/** The job as the API shows it: `uploadJob(id) { status interrupted }`. */
async function shown(jobId: string): Promise<{ status: string; interrupted: boolean }> {
  const job = (await catalog.service.job(editor, jobId))!;
  return { status: job.status, interrupted: isInterrupted(job, new Date()) };
}

async function storedEvents(jobId: string): Promise<number> {
  const events = await catalog.outbox.read(0, 1_000);
  return events.filter((e) => e.type === UPLOAD_JOB_UPDATED && e.payload.jobId === jobId && e.payload.status === 'STORED').length;
}

describe('upload worker restarted after a crash', () => {
  it('takes back its dead run\'s job at once, shows it interrupted until it resumes, and stores it exactly once', async () => {
    const job = await crashedUpload('instance-a#killed-run', LEASE_MS);
    // What the API showed before the fix for a minute: the stale stage, not interrupted.
    expect(await shown(job._id)).toEqual({ status: 'PARSING', interrupted: false });

    const files = new GatedFiles(catalog.store);
    const worker = restartedWorker('instance-a', files);
    const restartedAt = Date.now();
    worker.start();
    // Claimed by the new run (so recovery freed the lease) while its bytes are still being read.
    const claimed = await eventually(async () => {
      const doc = (await catalog.store.jobs.findOne({ _id: job._id }))!;
      return doc.leaseOwner === identities[0]!.owner && doc;
    }, { timeoutMs: 10_000, intervalMs: 10 });
    expect(Date.now() - restartedAt).toBeLessThan(LEASE_MS / 6);
    expect(claimed.attempts).toBe(2);
    expect(await shown(job._id)).toEqual({ status: 'PARSING', interrupted: true });

    files.open();
    const done = await worker.waitFor(job._id, 20_000);
    expect(Date.now() - restartedAt).toBeLessThan(LEASE_MS / 3);
    expect(done.status).toBe('STORED');
    expect(await shown(job._id)).toEqual({ status: 'STORED', interrupted: false });
    // Exactly once: one STORED stage, one revision, one STORED event; the stages start again after the crash.
    expect(done.stages.map((s) => s.stage)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    expect(await catalog.store.revisions.countDocuments({ jobId: job._id })).toBe(1);
    expect(await catalog.store.chapters.countDocuments({ revisionId: done.revisionId })).toBe(FIXTURE_BOOK.chapters.length);
    expect(await storedEvents(job._id)).toBe(1);
  });

  it('leaves a job leased by another live instance alone until that lease expires', async () => {
    const leaseMs = 1_500;
    const job = await crashedUpload('instance-b#alive', leaseMs);
    const files = new GatedFiles(catalog.store);
    files.open();
    const worker = restartedWorker('instance-a', files);
    const startedAt = Date.now();
    worker.start();
    // Many polls (20 ms) while instance-b's lease holds: never claimed, never shown interrupted.
    while (Date.now() - startedAt < leaseMs - 500) {
      const doc = (await catalog.store.jobs.findOne({ _id: job._id }))!;
      expect(doc).toMatchObject({ leaseOwner: 'instance-b#alive', attempts: 1, status: 'PARSING' });
      expect(isInterrupted(doc, new Date())).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Its holder stopped renewing: the job is taken over and finished once.
    const done = await worker.waitFor(job._id, 20_000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(leaseMs);
    expect(done).toMatchObject({ status: 'STORED', attempts: 2 });
    expect(await storedEvents(job._id)).toBe(1);
  });

  it('does not show a job interrupted once it has failed', async () => {
    const job = await crashedUpload('instance-a#killed-run', LEASE_MS);
    // It died mid-way as often as allowed: the restarted run fails it instead of trying again.
    await catalog.store.jobs.updateOne({ _id: job._id }, { $set: { attempts: 3 } });
    const files = new GatedFiles(catalog.store);
    files.open();
    const worker = restartedWorker('instance-a', files);
    worker.start();
    const done = await worker.waitFor(job._id, 10_000);
    expect(done).toMatchObject({ status: 'FAILED', failureCode: 'WORKER_FAILED' });
    expect(await shown(job._id)).toEqual({ status: 'FAILED', interrupted: false });
  });
});
