import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../lib/identity.js';
import { authorize, authorizeBook, authorizeChapter, can, NOT_AVAILABLE_MESSAGE, popularPassageChapters, subjects, visibleNotes } from './policy.js';
import { FakeCatalog, userCaller } from '../../test/kit/ugcServices.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
const editor = userCaller('u-ed', ['READER', 'EDITOR']);
const notAvailable = expect.objectContaining({ code: 'NOT_FOUND', message: NOT_AVAILABLE_MESSAGE });

function catalog(): FakeCatalog {
  const fake = new FakeCatalog();
  fake.addRevision('book', 'r1', [['Published paragraph one.', 'Published paragraph two.']]);
  fake.addRevision('book', 'r2', [['A draft nobody may quote yet.']], { draft: true });
  fake.addRevision('closed', 'c1', [['A book whose licence has ended.']]);
  fake.readableBooks.delete('closed');
  return fake;
}

describe('ugc policy: documents', () => {
  it('keeps highlights, reading activity and private notes to their owner', () => {
    expect(can(alice, 'read', subjects.highlight({ userId: 'u-alice' })!)).toBe(true);
    expect(can(bob, 'read', subjects.highlight({ userId: 'u-alice' })!)).toBe(false);
    expect(can(bob, 'readActivity', subjects.user('u-alice'))).toBe(false);
    expect(can(ANONYMOUS, 'readActivity', subjects.user('u-alice'))).toBe(false);
    expect(can(alice, 'readActivity', subjects.shelfEntry({ userId: 'u-alice', secret: true }))).toBe(true);
    expect(can(bob, 'read', subjects.shelfEntry({ userId: 'u-alice', secret: true }))).toBe(false);
    expect(can(bob, 'read', subjects.shelfEntry({ userId: 'u-alice', secret: false }))).toBe(true);
    expect(can(bob, 'read', subjects.note({ userId: 'u-alice', visibility: 'PRIVATE' }, true)!)).toBe(false);
  });

  it('shows a public note to others only on content they may read, and lets only its author change it', () => {
    const pub = { userId: 'u-alice', visibility: 'PUBLIC' as const };
    expect(can(bob, 'read', subjects.note(pub, true)!)).toBe(true);
    expect(can(bob, 'read', subjects.note(pub, false)!)).toBe(false);
    expect(can(alice, 'read', subjects.note(pub, false)!)).toBe(true);
    expect(can(bob, 'like', subjects.note(pub, true)!)).toBe(true);
    expect(can(ANONYMOUS, 'like', subjects.note(pub, true)!)).toBe(false);
    expect(can(bob, 'write', subjects.note(pub, true)!)).toBe(false);
  });

  it('refuses with one NOT_FOUND whether the subject is missing or someone else’s; sign-in first for writes', () => {
    expect(() => authorize(bob, 'write', null)).toThrow(notAvailable);
    expect(() => authorize(bob, 'write', subjects.highlight({ userId: 'u-alice' }))).toThrow(notAvailable);
    expect(() => authorize(bob, 'write', subjects.note({ userId: 'u-alice', visibility: 'PUBLIC' }, true))).toThrow(notAvailable);
    expect(() => authorize(ANONYMOUS, 'write', null)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => authorize(bob, 'read', subjects.repairJob)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => authorize(editor, 'read', subjects.repairJob)).not.toThrow();
  });
});

describe('ugc policy: content, as catalog decides it', () => {
  it('refuses a draft chapter, a closed book’s chapter and an unknown id alike', async () => {
    const fake = catalog();
    expect(await authorizeChapter(fake, alice, 'r1-c0')).toMatchObject({ bookId: 'book', current: true });
    for (const id of ['r2-c0', 'c1-c0', 'nope']) await expect(authorizeChapter(fake, alice, id)).rejects.toThrow(notAvailable);
    // A readable chapter named with another book is refused too (progress names both).
    await expect(authorizeChapter(fake, alice, 'r1-c0', 'closed')).rejects.toThrow(notAvailable);
    await expect(authorizeBook(fake, alice, 'closed')).rejects.toThrow(notAvailable);
    await expect(authorizeBook(fake, alice, 'missing')).rejects.toThrow(notAvailable);
    await expect(authorizeBook(fake, ANONYMOUS, 'book')).rejects.toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });

  it('filters notes with one catalog call, and keeps popular passages to the published revision even for staff', async () => {
    const fake = catalog();
    const notes = [
      { id: 'own-draft', userId: 'u-bob', visibility: 'PRIVATE' as const, chapterId: 'r2-c0' },
      { id: 'public', userId: 'u-alice', visibility: 'PUBLIC' as const, chapterId: 'r1-c0' },
      { id: 'public-draft', userId: 'u-ed', visibility: 'PUBLIC' as const, chapterId: 'r2-c0' },
      { id: 'private', userId: 'u-alice', visibility: 'PRIVATE' as const, chapterId: 'r1-c0' },
    ];
    const before = fake.calls.access;
    expect((await visibleNotes(fake, bob, notes)).map((n) => n.id)).toEqual(['own-draft', 'public']);
    expect(fake.calls.access - before).toBe(1);
    expect((await visibleNotes(fake, editor, notes)).map((n) => n.id)).toEqual(['public', 'public-draft']);
    expect([...(await popularPassageChapters(fake, editor, ['r1-c0', 'r2-c0', 'c1-c0']))]).toEqual(['r1-c0']);
  });
});
