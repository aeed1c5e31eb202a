import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseManager } from '../../../lib/leases.js';
import { createLogger } from '../../../lib/logger.js';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';
import { enqueueRepair } from '../repair/jobs.js';
import { RepairWorker } from '../repair/worker.js';
import { publicNoteAddition, repairJobUpdate } from './liveUpdates.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
const editor = userCaller('u-erin', ['READER', 'EDITOR']);
const TEXT = ['The gulls circled the harbour wall.', 'The boats came home with the evening tide.'];
const P0 = 'b1-r1-c0.p0';
const P1 = 'b1-r1-c0.p1';
let ugc: TestUgc;

beforeEach(async () => {
  ugc = await openTestUgc();
  ugc.catalog.addRevision('b1', 'b1-r1', [TEXT]);
});
afterEach(async () => ugc.close());

const range = (words: string) => {
  const start = TEXT.join('\n\n').indexOf(words);
  return { chapterId: 'b1-r1-c0', start, end: start + words.length };
};
const lastSeq = async (): Promise<string> => String((await ugc.outbox.head()));

describe('publicNoteAddition (publicNoteAdded per event)', () => {
  it('answers a note made public on the paragraph to any reader of it, never a private note', async () => {
    const secret = await ugc.annotations.createNote(alice, { range: range('evening tide'), text: 'private thought', visibility: 'PRIVATE' });
    const privateSeq = await lastSeq();
    const shared = await ugc.annotations.createNote(alice, { range: range('boats came home'), text: 'public thought', visibility: 'PUBLIC' });
    const publicSeq = await lastSeq();
    expect([secret.paragraphId, shared.paragraphId]).toEqual([P1, P1]);

    expect(await publicNoteAddition(ugc, bob, privateSeq, P1)).toBeNull();
    expect(await publicNoteAddition(ugc, alice, privateSeq, P1)).toBeNull(); // not even to its author: it was never public
    expect(await publicNoteAddition(ugc, bob, publicSeq, P1)).toMatchObject({ _id: shared._id, text: 'public thought', visibility: 'PUBLIC' });
    expect(await publicNoteAddition(ugc, bob, publicSeq, P0)).toBeNull();
    expect(await publicNoteAddition(ugc, bob, '1e3', P1)).toBeNull();

    // Turning the private note public is an addition; editing a public note is not.
    await ugc.annotations.updateNote(alice, secret._id, { visibility: 'PUBLIC' });
    const turnedSeq = await lastSeq();
    await ugc.annotations.updateNote(alice, shared._id, { text: 'edited' });
    const editSeq = await lastSeq();
    expect(await publicNoteAddition(ugc, bob, turnedSeq, P1)).toMatchObject({ _id: secret._id });
    expect(await publicNoteAddition(ugc, bob, editSeq, P1)).toBeNull();

    // Made private again before the event was asked for: checked as the note is now.
    await ugc.annotations.updateNote(alice, secret._id, { visibility: 'PRIVATE' });
    expect(await publicNoteAddition(ugc, bob, turnedSeq, P1)).toBeNull();
  });

  it('answers nothing once the book is not readable (unpublished, licence, territory: catalog decides), and refuses the subscription then', async () => {
    await ugc.annotations.createNote(alice, { range: range('boats came home'), text: 'public thought', visibility: 'PUBLIC' });
    const seq = await lastSeq();
    expect(await publicNoteAddition(ugc, bob, '0', P1)).toBeNull(); // may subscribe
    ugc.catalog.readableBooks.delete('b1');
    expect(await publicNoteAddition(ugc, bob, seq, P1)).toBeNull();
    await expect(publicNoteAddition(ugc, bob, '0', P1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(publicNoteAddition(ugc, bob, '0', 'no-such-paragraph')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('repairJobUpdate (repairJobUpdated per event)', () => {
  it('refuses readers (FORBIDDEN), even at subscribe', async () => {
    await expect(repairJobUpdate(ugc, bob, '0', 'b1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(repairJobUpdate(ugc, bob, '1', 'b1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it("gives staff the book's job after each of its events: created, running, batches, done", async () => {
    for (let i = 0; i < 3; i++) await ugc.annotations.createHighlight(userCaller(`u${i}`), range('boats came home'));
    ugc.catalog.addRevision('b1', 'b1-r2', [['A new first paragraph.', ...TEXT]]);
    const from = Number(await lastSeq());
    const job = await enqueueRepair(ugc.store, { bookId: 'b1', previousRevisionId: 'b1-r1', revisionId: 'b1-r2' }, new Date(), ugc.outbox);
    const worker = new RepairWorker({ store: ugc.store, outbox: ugc.outbox, catalog: ugc.catalog, leases: new LeaseManager(ugc.store.db), logger: createLogger('t', 'silent'), batchSize: 2 });
    expect((await worker.runPending()).get(job._id)).toBe('done');

    const events = (await ugc.outbox.read(from, 100)).filter((e) => e.type === 'RepairJobUpdated');
    expect(events.every((e) => e.payload.bookId === 'b1' && e.payload.jobId === job._id)).toBe(true);
    // created, RUNNING, two highlight batches (3 highlights, 2 per batch), DONE
    expect(events.length).toBe(5);
    const seen = await Promise.all(events.map((e) => repairJobUpdate(ugc, editor, String(e.seq), 'b1')));
    expect(seen.every((j) => j?._id === job._id)).toBe(true);
    const done = seen.at(-1)!;
    expect(done).toMatchObject({ status: 'DONE', batches: 2 });
    expect(done.moved + done.unchanged + done.orphaned).toBe(3);
    expect(seen[0]).toMatchObject({ status: 'DONE' }); // each answer is the job as it is now
    expect(await repairJobUpdate(ugc, editor, String(events[0]!.seq), 'b2')).toBeNull();
    expect(await repairJobUpdate(ugc, editor, '0', 'b1')).toBeNull();
  });
});
