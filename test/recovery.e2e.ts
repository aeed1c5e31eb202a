/**
 * Recovery after a crash, through the gateway: the state a killed instance leaves behind (an
 * upload job in PARSING and a repair job RUNNING, both still leased by it for another 30–60 s) is
 * taken back at once by the same instance when it restarts, instead of after the leases expire;
 * work leased by another live instance is left alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseName } from '../lib/service.js';
import { ObjectId, openStorage } from '../lib/storage/index.js';
import { FIXTURE_BOOK } from './kit/epubFixtures.js';
import { catalogCollections, type JobDoc } from '../subgraphs/catalog/store.js';
import { collectionsOf } from '../subgraphs/ugc/store.js';
import { registerEditor } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { eventually, mustQuery, startTestPlatform, tempDataDir } from './kit/platform.js';
import { replaceBookContent, waitForRepair } from './kit/ugc.js';

const dataDir = tempDataDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const JOB = /* GraphQL */ `query($id: ID!) { uploadJob(id: $id) { status interrupted } }`;
const REPAIR = /* GraphQL */ `query($bookId: ID!) { repairJob(bookId: $bookId) { status interrupted toRevisionId } }`;

describe('restarting an instance that died mid-job', () => {
  it('resumes its own upload and repair jobs at once and leaves another instance\'s alone', async () => {
    let platform = await startTestPlatform({ dataDir, keepData: true });
    const editor = await registerEditor(platform.gateway);
    const { bookId } = await createPublishedBook(platform.gateway, editor.token);
    const revision2 = await replaceBookContent(platform.gateway, editor.token, bookId, { ...FIXTURE_BOOK, title: 'Second edition' });
    await waitForRepair(platform.gateway, editor.token, bookId, revision2);
    await platform.stop();

    // What kill -9 mid-work leaves: jobs in a running stage, leased by the dead run for a while yet.
    const instanceId = fs.readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim();
    const deadRun = `${instanceId}#killed-run`;
    const storage = await openStorage({ dataDir });
    const { jobs } = catalogCollections(storage.db(databaseName('catalog')));
    const stored = (await jobs.findOne({ status: 'STORED' }))!;
    const now = Date.now();
    const crashedJob = (owner: string, leaseMs: number): JobDoc => ({
      ...stored,
      _id: new ObjectId().toHexString(),
      revisionId: new ObjectId().toHexString(),
      status: 'PARSING',
      stages: stored.stages.slice(0, 3),
      attempts: 1,
      leaseOwner: owner,
      leaseUntil: new Date(now + leaseMs),
      createdAt: new Date(now),
      finishedAt: null,
    });
    const mine = crashedJob(deadRun, 60_000);
    const theirs = crashedJob('another-instance#alive', 60_000);
    await jobs.insertMany([mine, theirs]);
    const ugc = storage.db(databaseName('ugc'));
    const rewound = await collectionsOf(ugc).repairJobs.updateOne({ bookId, toRevisionId: revision2 }, { $set: { status: 'RUNNING', phase: 'highlights', cursor: null, finishedAt: null } });
    expect(rewound.modifiedCount).toBe(1);
    await ugc.collection('leases').insertOne({ _id: `repair:${bookId}` as never, owner: deadRun, expiresAt: new Date(now + 30_000), acquiredAt: new Date(now) });
    await storage.close();

    const restartedAt = Date.now();
    platform = await startTestPlatform({ dataDir, keepData: true });
    try {
      const upload = await eventually(async () => {
        const { uploadJob } = await mustQuery(platform.gateway, JOB, { id: mine._id }, { token: editor.token });
        return uploadJob.status === 'STORED' && uploadJob;
      }, { timeoutMs: 20_000, intervalMs: 50 });
      const repair = await eventually(async () => {
        const { repairJob } = await mustQuery(platform.gateway, REPAIR, { bookId }, { token: editor.token });
        return repairJob.status === 'DONE' && repairJob;
      }, { timeoutMs: 20_000, intervalMs: 50 });
      const tookMs = Date.now() - restartedAt;
      // Far sooner than the dead run's leases (60 s and 30 s) would have allowed.
      expect(tookMs).toBeLessThan(20_000);
      expect(upload.interrupted).toBe(false);
      expect(repair).toMatchObject({ toRevisionId: revision2, interrupted: false });
      // Another instance's lease is live: its job is its own business, and not reported interrupted.
      const other = (await mustQuery(platform.gateway, JOB, { id: theirs._id }, { token: editor.token })).uploadJob;
      expect(other).toEqual({ status: 'PARSING', interrupted: false });
    } finally {
      await platform.stop();
    }
  }, 120_000);
});
