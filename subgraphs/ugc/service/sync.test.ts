import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';
import { annotationChange, progressChange, shelfChange } from './sync.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
let ugc: TestUgc;

beforeEach(async () => {
  ugc = await openTestUgc();
  ugc.catalog.addRevision('b1', 'b1-r1', [['Some text here.']]);
});
afterEach(async () => ugc.close());

const events = async () => (await ugc.outbox.read(0, 100)).map((e) => ({ seq: e.seq, type: e.type, payload: e.payload }));

describe('sync events', () => {
  it('writes one ProgressUpdated per applied report, none for a stale one, with the device and user', async () => {
    const t = Date.now();
    expect((await ugc.shelf.updateProgress(alice, 'b1', { offset: 5, percent: 10, clientTime: new Date(t - 1000), deviceId: 'phone' })).applied).toBe(true);
    expect((await ugc.shelf.updateProgress(alice, 'b1', { offset: 1, percent: 1, clientTime: new Date(t - 5000), deviceId: 'tablet' })).applied).toBe(false);
    const written = await events();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ type: 'ProgressUpdated', payload: { userId: 'u-alice', bookId: 'b1', deviceId: 'phone', percent: 10, offset: 5 } });
    const seq = String(written[0]!.seq);
    expect(await progressChange(ugc, alice, seq)).toMatchObject({ seq, bookId: 'b1', deviceId: 'phone', percent: 10 });
    // Someone else's change, a malformed seq or a change of another kind: null, indistinguishable from none.
    expect(await progressChange(ugc, bob, seq)).toBeNull();
    expect(await progressChange(ugc, alice, '0')).toBeNull();
    expect(await progressChange(ugc, alice, '1e3')).toBeNull();
    expect(await shelfChange(ugc, alice, seq)).toBeNull();
  });

  it('writes ShelfEntryChanged for add and update and ShelfEntryRemoved for remove (not for a repeated add or a missing entry)', async () => {
    await ugc.shelf.addToShelf(alice, 'b1');
    await ugc.shelf.addToShelf(alice, 'b1');
    await ugc.shelf.updateEntry(alice, 'b1', { finished: true });
    await ugc.shelf.removeFromShelf(alice, 'b1');
    await ugc.shelf.removeFromShelf(alice, 'b1');
    const written = await events();
    expect(written.map((e) => [e.type, e.payload.op])).toEqual([
      ['ShelfEntryChanged', 'CREATED'],
      ['ShelfEntryChanged', 'UPDATED'],
      ['ShelfEntryRemoved', undefined],
    ]);
    expect(await shelfChange(ugc, alice, String(written[2]!.seq))).toMatchObject({ op: 'DELETED', bookId: 'b1' });
    expect(await shelfChange(ugc, bob, String(written[2]!.seq))).toBeNull();
  });

  it('turns highlight events into annotation changes, filtered by book and owner', async () => {
    const text = 'Some text here.';
    const h = await ugc.annotations.createHighlight(alice, { chapterId: 'b1-r1-c0', start: 5, end: 9 });
    await ugc.annotations.deleteHighlight(alice, h._id);
    const [created, deleted] = await events();
    expect(text.slice(5, 9)).toBe('text');
    expect(await annotationChange(ugc, alice, String(created!.seq), 'b1')).toEqual({ seq: String(created!.seq), kind: 'HIGHLIGHT', op: 'CREATED', id: h._id, bookId: 'b1' });
    expect(await annotationChange(ugc, alice, String(deleted!.seq), undefined)).toMatchObject({ op: 'DELETED', id: h._id, bookId: 'b1' });
    expect(await annotationChange(ugc, alice, String(created!.seq), 'b2')).toBeNull();
    expect(await annotationChange(ugc, bob, String(created!.seq), undefined)).toBeNull();
  });
});
