import { Query } from 'mingo';
import { describe, expect, it } from 'vitest';
import { readableFilter, type Reader } from './licensing.js';
import { authorize, can, CATALOG, NOT_AVAILABLE_MESSAGE, visibleRevisionId } from './policy.js';
import type { BookDoc, LicenseDoc, RevisionDoc } from './store.js';

const reader: Reader = { userId: 'u1', partnerId: null, roles: ['READER'], territory: 'DE' };
const anonymous: Reader = { userId: null, partnerId: null, roles: [], territory: null };
const editor: Reader = { userId: 'e1', partnerId: null, roles: ['READER', 'EDITOR'], territory: null };
const partner: Reader = { userId: null, partnerId: 'key-1', roles: [], territory: null };
const now = new Date('2026-06-01T00:00:00Z');

const license = (over: Partial<LicenseDoc> = {}): LicenseDoc => ({ startsAt: null, endsAt: null, territories: [], partnerIds: [], updatedAt: now, ...over });
const book = (over: Partial<BookDoc> = {}) =>
  ({ _id: 'b1', status: 'PUBLISHED', license: license(), publishedRevisionId: 'r1', latestRevisionId: 'r2', ...over }) as BookDoc;
const revision = (id: string, publishedAt: Date | null, bookId = 'b1') => ({ _id: id, bookId, publishedAt }) as RevisionDoc;
const published = revision('r1', new Date('2026-01-01T00:00:00Z'));
const draft = revision('r2', null);

describe('catalog policy', () => {
  it('lets readers read the published revision of a licensed book, and never a draft revision', () => {
    expect(can(reader, 'read', { kind: 'book', book: book() }, now)).toBe(true);
    expect(can(reader, 'read', { kind: 'revision', book: book(), revision: published }, now)).toBe(true);
    expect(can(reader, 'read', { kind: 'revision', book: book(), revision: draft }, now)).toBe(false);
    expect(can(anonymous, 'read', { kind: 'revision', book: book(), revision: draft }, now)).toBe(false);
    expect(visibleRevisionId(book(), reader, now)).toBe('r1');
  });

  it('closes every revision of a book outside its licence window, territory or partner list, or unpublished', () => {
    const closed = [
      book({ status: 'UNPUBLISHED' }),
      book({ status: 'DRAFT' }),
      book({ license: license({ startsAt: new Date('2026-07-01T00:00:00Z') }) }),
      book({ license: license({ endsAt: new Date('2026-05-01T00:00:00Z') }) }),
      book({ license: license({ territories: ['FR'] }) }),
    ];
    for (const b of closed) {
      expect(can(reader, 'read', { kind: 'book', book: b }, now)).toBe(false);
      expect(can(reader, 'read', { kind: 'revision', book: b, revision: published }, now)).toBe(false);
    }
    expect(can(partner, 'read', { kind: 'revision', book: book(), revision: published }, now)).toBe(false);
    expect(can(partner, 'read', { kind: 'revision', book: book({ license: license({ partnerIds: ['key-1'] }) }), revision: published }, now)).toBe(true);
  });

  it('checks licence windows at whole seconds, failing closed, the same for one book and for a list', () => {
    const at = new Date('2026-06-01T00:00:00.400Z');
    const justStarted = book({ license: license({ startsAt: new Date('2026-06-01T00:00:00.300Z') }) });
    const endingSoon = book({ license: license({ endsAt: new Date('2026-06-01T00:00:00.900Z') }) });
    const cases: Array<[BookDoc, Date, boolean]> = [
      [justStarted, at, false], // started 100 ms ago: not for the whole second yet
      [justStarted, new Date('2026-06-01T00:00:01.000Z'), true],
      [endingSoon, at, false], // ends within this second
      [endingSoon, new Date('2026-05-31T23:59:59.999Z'), true],
    ];
    for (const [b, when, readable] of cases) {
      expect(can(reader, 'read', { kind: 'book', book: b }, when)).toBe(readable);
      // The listing filter, run as the embedded store runs it, agrees with the single-book check.
      expect(new Query(readableFilter(reader, when)!).test(b as unknown as Record<string, unknown>)).toBe(readable);
    }
    // One value for the whole second, so the store compiles it once.
    expect(readableFilter(reader, at)).toEqual(readableFilter(reader, new Date('2026-06-01T00:00:00.999Z')));
    // Shared by the second's requests (the same frozen object), per territory and partner.
    expect(readableFilter(reader, at)).toBe(readableFilter(reader, new Date('2026-06-01T00:00:00.999Z')));
    expect(Object.isFrozen(readableFilter(reader, at))).toBe(true);
    expect(readableFilter({ ...reader, territory: 'ZZ' }, at)).not.toEqual(readableFilter(reader, at));
    expect(readableFilter({ ...reader, partnerId: 'key-9' }, at)).not.toEqual(readableFilter(reader, at));
    expect(readableFilter(reader, new Date('2026-06-01T00:00:01.000Z'))).not.toEqual(readableFilter(reader, at));
  });

  it('lets staff read drafts, but never a revision of another book', () => {
    expect(can(editor, 'read', { kind: 'revision', book: book({ status: 'DRAFT' }), revision: draft }, now)).toBe(true);
    expect(visibleRevisionId(book(), editor, now)).toBe('r2');
    expect(can(editor, 'read', { kind: 'revision', book: book(), revision: revision('r9', null, 'other-book') }, now)).toBe(false);
  });

  it('downloads only the current published revision, under the licence even for staff', () => {
    expect(can(reader, 'download', { kind: 'revision', book: book(), revision: published }, now)).toBe(true);
    expect(can(editor, 'download', { kind: 'revision', book: book(), revision: draft }, now)).toBe(false);
    expect(can(editor, 'download', { kind: 'revision', book: book({ license: license({ territories: ['FR'] }) }), revision: published }, now)).toBe(false);
    expect(can(anonymous, 'download', { kind: 'revision', book: book(), revision: published }, now)).toBe(false);
  });

  it('answers every refused read with one NOT_FOUND, and management by role', () => {
    const refusals = [null, { kind: 'revision', book: book(), revision: draft }, { kind: 'book', book: book({ status: 'DRAFT' }) }] as const;
    for (const subject of refusals) {
      expect(() => authorize(reader, 'read', subject, now)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: NOT_AVAILABLE_MESSAGE }));
    }
    expect(() => authorize(anonymous, 'manage', CATALOG)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => authorize(reader, 'manage', CATALOG)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => authorize(editor, 'manage', CATALOG)).not.toThrow();
  });
});
