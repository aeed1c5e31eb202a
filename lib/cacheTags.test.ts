import { describe, expect, it } from 'vitest';
import { BOOK_LISTS_TAG, CACHE_PURGE_HEADER, CACHE_TAGS_HEADER, MAX_TAG_HEADER_BYTES, ResponseTags, parseTags, purgeTagsForEvent } from './cacheTags.js';

const apply = (tags: ResponseTags, cacheControl: string | undefined, now = 0): Record<string, string> => {
  const headers: Record<string, string> = cacheControl ? { 'cache-control': cacheControl } : {};
  tags.applyTo(headers, now);
  return headers;
};

describe('cache tags', () => {
  it('names every tag once, and the purges a mutation asked for', () => {
    const tags = new ResponseTags();
    tags.add('book:a', 'book:b', 'book:a');
    tags.purge('book:c', BOOK_LISTS_TAG);
    expect(apply(tags, 'max-age=60, public')).toEqual({
      'cache-control': 'max-age=60, public',
      [CACHE_TAGS_HEADER]: 'book:a book:b',
      [CACHE_PURGE_HEADER]: 'book:c books',
    });
    expect(parseTags('book:a book:b')).toEqual(['book:a', 'book:b']);
    expect(parseTags(undefined)).toEqual([]);
  });

  it('makes a response uncacheable rather than cache it with tags it cannot tell in full', () => {
    const tooMany = new ResponseTags();
    for (let i = 0; i < MAX_TAG_HEADER_BYTES / 10; i++) tooMany.add(`book:${String(i).padStart(24, '0')}`);
    expect(apply(tooMany, 'max-age=300, public')).toEqual({ 'cache-control': 'no-store' });
    const odd = new ResponseTags();
    odd.add('book:a', 'book:has space');
    expect(apply(odd, 'max-age=300, public')).toEqual({ 'cache-control': 'no-store' });
    // A gateway treats a header it cannot parse as untrustworthy.
    expect(parseTags('book:a book:"x"')).toBeUndefined();
  });

  it('caps max-age at the earliest licence end, and refuses to cache past it', () => {
    const tags = new ResponseTags();
    tags.add('book:a');
    tags.notAfter(new Date(90_000));
    tags.notAfter(new Date(40_000));
    tags.notAfter(null);
    expect(apply(tags, 'max-age=300, public', 10_000)['cache-control']).toBe('max-age=30, public');
    expect(apply(tags, 'max-age=20, public', 10_000)['cache-control']).toBe('max-age=20, public');
    expect(apply(tags, 'max-age=300, public', 40_000)).toEqual({ 'cache-control': 'no-store' });
  });

  it('maps catalog book events to the book and the book lists; ignores the rest', () => {
    for (const type of ['BookPublished', 'BookUnpublished', 'BookContentReplaced', 'BookLicenseChanged']) {
      expect(purgeTagsForEvent({ type, payload: { bookId: 'b1' } })).toEqual(['book:b1', BOOK_LISTS_TAG]);
    }
    expect(purgeTagsForEvent({ type: 'NoteWritten', payload: { bookId: 'b1' } })).toEqual([]);
    expect(purgeTagsForEvent({ type: 'BookUnpublished', payload: {} })).toEqual([]);
  });
});
