/** Upload jobs announce every status change on catalog's outbox; `jobUpdate` answers them per event, staff only. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../lib/config.js';
import type { Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { FIXTURE_BOOK } from '../../test/kit/epubFixtures.js';
import { buildEpub } from './epub/build.js';
import { openCatalog, type CatalogRuntime } from './index.js';
import { UPLOAD_JOB_UPDATED } from './pipeline.js';

const caller = (over: Partial<Caller>): Caller => ({ userId: null, roles: [], sessionId: null, partnerId: null, scopes: [], clientAddress: 'test', territory: null, ...over });
const editor = caller({ userId: 'editor-1', roles: ['READER', 'EDITOR'] });
const reader = caller({ userId: 'reader-1', roles: ['READER'] });

describe('upload job events', () => {
  let dir: string;
  let storage: Storage;
  let catalog: CatalogRuntime;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'folio-catalog-jobs-'));
    storage = await openStorage({ dataDir: dir });
    catalog = await openCatalog({ config: testConfig({ FOLIO_DATA_DIR: dir }), storage, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const jobEvents = async (from: number, jobId: string) => (await catalog.outbox.read(from, 500)).filter((e) => e.type === UPLOAD_JOB_UPDATED && e.payload.jobId === jobId);

  it('writes one event per stage, through STORED, and answers staff with the job as it is', async () => {
    const from = await catalog.outbox.head();
    const book = await catalog.service.createBook(editor, { title: 'Fixture', authors: ['A. Writer'], language: 'en' });
    const job = await catalog.service.uploadContent(editor, book._id, (await buildEpub(FIXTURE_BOOK)).toString('base64'));
    expect((await catalog.pipeline.runJob(job._id)).status).toBe('STORED');

    const events = await jobEvents(from, job._id);
    expect(events.map((e) => e.payload.status)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    const updates = await Promise.all(events.map((e) => catalog.service.jobUpdate(editor, String(e.seq), job._id)));
    // Each says the status its event announced, with the job as it is now.
    expect(updates.map((u) => u?.status)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    expect(updates.every((u) => u?.job._id === job._id && u.job.status === 'STORED')).toBe(true);
    // Another job's event, a seq that is no event, the subscribe-time check: null.
    expect(await catalog.service.jobUpdate(editor, String(events[0]!.seq), 'another-job')).toBeNull();
    expect(await catalog.service.jobUpdate(editor, '999999', job._id)).toBeNull();
    expect(await catalog.service.jobUpdate(editor, '0', job._id)).toBeNull();
    await expect(catalog.service.jobUpdate(editor, '0', 'no-such-job')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Readers: FORBIDDEN, at subscribe and per event.
    await expect(catalog.service.jobUpdate(reader, '0', job._id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(catalog.service.jobUpdate(reader, String(events.at(-1)!.seq), job._id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('announces a refused upload as FAILED, with its reason on the job', async () => {
    const from = await catalog.outbox.head();
    const book = await catalog.service.createBook(editor, { title: 'Broken', authors: ['A. Writer'], language: 'en' });
    const job = await catalog.service.uploadContent(editor, book._id, Buffer.from('PK\u0003\u0004 not really a zip at all').toString('base64'));
    expect((await catalog.pipeline.runJob(job._id)).status).toBe('FAILED');
    const events = await jobEvents(from, job._id);
    expect(events.at(-1)!.payload.status).toBe('FAILED');
    expect(await catalog.service.jobUpdate(editor, String(events.at(-1)!.seq), job._id)).toMatchObject({ status: 'FAILED', job: { status: 'FAILED', failureReason: expect.any(String) } });
  });
});
