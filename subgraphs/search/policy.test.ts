import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import type { CatalogClient } from './catalogClient.js';
import { authorize, can, NOT_AVAILABLE_MESSAGE, readableCheck } from './policy.js';

const reader: Caller = { ...ANONYMOUS, userId: 'u1', roles: ['READER'] };
const editor: Caller = { ...ANONYMOUS, userId: 'e1', roles: ['READER', 'EDITOR'] };

describe('search policy', () => {
  it('shows a hit exactly when catalog lets the viewer read its book', () => {
    expect(can(reader, 'read', { type: 'Hit', bookReadable: true })).toBe(true);
    expect(can(editor, 'read', { type: 'Hit', bookReadable: false })).toBe(false);
    expect(() => authorize(reader, 'read', { type: 'Hit', bookReadable: false })).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: NOT_AVAILABLE_MESSAGE }));
  });

  it('keeps the notes index to signed-in users and index status to staff', () => {
    expect(() => authorize(ANONYMOUS, 'read', { type: 'OwnNotes' })).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => authorize(reader, 'read', { type: 'OwnNotes' })).not.toThrow();
    expect(() => authorize(reader, 'read', { type: 'IndexStatus' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => authorize(editor, 'read', { type: 'IndexStatus' })).not.toThrow();
  });

  it('asks catalog once per request, as the viewer, however many checks there are', async () => {
    const asked: Array<{ ids: readonly string[]; viewer: Caller }> = [];
    const catalog: CatalogClient = {
      revisionChapters: () => Promise.reject(new Error('unused')),
      readableBooks: async (ids, viewer) => {
        asked.push({ ids, viewer });
        return new Set(ids.filter((id) => id !== 'closed'));
      },
    };
    const { check } = readableCheck(catalog, reader);
    const [a, b] = await Promise.all([check(['open', 'closed']), check(['other'])]);
    expect([...a]).toEqual(['open']);
    expect([...b]).toEqual(['other']);
    expect(asked).toEqual([{ ids: ['open', 'closed', 'other'], viewer: reader }]);
  });
});
