import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import type { SharedResponse } from './inflightDedup.js';
import { createResponseCache, type CacheFacts } from './responseCache.js';

const caller = (userId: string | null, roles: Caller['roles'] = []): Caller => ({ ...ANONYMOUS, userId, roles, clientAddress: '1.2.3.4' });
const facts = (tags: string[], oldestFetchAt?: number): CacheFacts => ({ tags: new Set(tags), oldestFetchAt });
const response = (cacheControl: string | undefined, body = '{"data":{"x":1}}'): SharedResponse => ({ status: 200, headers: [], body: Buffer.from(body), cacheControl });

describe('response cache', () => {
  it('shares PUBLIC responses within a role class only', () => {
    const cache = createResponseCache();
    expect(cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query')).toBe(true);
    expect(cache.get('k', caller(null))).toBeDefined();
    expect(cache.get('k', caller('u1', ['READER']))).toBeUndefined();
    expect(cache.get('k', caller('u1', ['ADMIN']))).toBeUndefined();
  });

  it('keeps answers per territory (licences open books in some territories only)', () => {
    const cache = createResponseCache();
    const inGermany = { ...caller('u1', ['READER']), territory: 'DE' };
    expect(cache.maybeStore('k', inGermany, response('max-age=60, public'), 'query')).toBe(true);
    expect(cache.maybeStore('p', inGermany, response('max-age=60, private'), 'query')).toBe(true);
    expect(cache.get('k', inGermany)).toBeDefined();
    for (const elsewhere of [{ ...inGermany, territory: 'FR' }, { ...inGermany, territory: null }]) {
      expect(cache.get('k', elsewhere)).toBeUndefined();
      expect(cache.get('p', elsewhere)).toBeUndefined();
    }
  });

  it('keeps PRIVATE responses per user and never stores them for anonymous callers', () => {
    const cache = createResponseCache();
    expect(cache.maybeStore('k', caller('u1'), response('max-age=60, private'), 'query')).toBe(true);
    expect(cache.get('k', caller('u1'))).toBeDefined();
    expect(cache.get('k', caller('u2'))).toBeUndefined();
    expect(cache.get('k', caller(null))).toBeUndefined();
    expect(cache.maybeStore('k2', caller(null), response('max-age=60, private'), 'query')).toBe(false);
  });

  it('stores nothing without a positive max-age, for mutations, or with errors', () => {
    const cache = createResponseCache();
    expect(cache.maybeStore('a', caller(null), response(undefined), 'query')).toBe(false);
    expect(cache.maybeStore('b', caller(null), response('max-age=0, public'), 'query')).toBe(false);
    expect(cache.maybeStore('c', caller(null), response('max-age=60, public'), 'mutation')).toBe(false);
    expect(cache.maybeStore('d', caller(null), response('max-age=60, public', '{"data":null,"errors":[{}]}'), 'query')).toBe(false);
  });

  it('purges every entry holding a tag, across role classes, territories and users, and nothing else', () => {
    const cache = createResponseCache();
    const reader = caller('u1', ['READER']);
    const inGermany = { ...reader, territory: 'DE' };
    expect(cache.maybeStore('chapter', caller(null), response('max-age=300, public'), 'query', facts(['book:a']))).toBe(true);
    expect(cache.maybeStore('chapter', inGermany, response('max-age=300, public'), 'query', facts(['book:a']))).toBe(true);
    expect(cache.maybeStore('list', reader, response('max-age=60, private'), 'query', facts(['books', 'book:a', 'book:b']))).toBe(true);
    expect(cache.maybeStore('other', caller(null), response('max-age=60, public'), 'query', facts(['book:b']))).toBe(true);

    expect(cache.purge(['book:a'])).toBe(3);
    expect(cache.get('chapter', caller(null))).toBeUndefined();
    expect(cache.get('chapter', inGermany)).toBeUndefined();
    expect(cache.get('list', reader)).toBeUndefined();
    expect(cache.get('other', caller(null))).toBeDefined();
    expect(cache.stats()).toEqual({ entries: 1, tags: 1, references: 1 });
    expect(cache.purge(['book:a', 'books'])).toBe(0);
  });

  it('keeps the tag index bounded: evicted and overwritten entries leave no tag behind', () => {
    let clock = 1_000;
    const cache = createResponseCache({ maxBytes: 20_000, now: () => clock });
    for (let i = 0; i < 2_000; i++) cache.maybeStore(`k${i}`, caller(null), response('max-age=60, public', `{"data":{"n":${i}}}`), 'query', facts([`book:${i}`, `book:${i % 7}`, 'books']));
    const { entries, tags, references } = cache.stats();
    expect(entries).toBeGreaterThan(10);
    expect(entries).toBeLessThan(200); // the byte bound, tags included
    // Every reference belongs to a live entry: 3 tags each except where `book:i` and `book:i%7` coincide.
    expect(references).toBeLessThanOrEqual(entries * 3);
    expect(references).toBeGreaterThanOrEqual(entries * 2);
    expect(tags).toBeLessThanOrEqual(entries + 8);
    // Overwriting an entry replaces its tags.
    cache.maybeStore('k1999', caller(null), response('max-age=60, public'), 'query', facts(['book:new']));
    expect(cache.purge(['book:1999'])).toBe(0);
    expect(cache.purge(['book:new'])).toBe(1);
    // Purging everything that is left leaves an empty index.
    clock += 1;
    cache.purge(['books']);
    expect(cache.stats()).toEqual({ entries: 0, tags: 0, references: 0 });
  });

  it('does not store an answer whose subgraph fetch started before a purge (it may predate the change)', () => {
    let clock = 100;
    const cache = createResponseCache({ now: () => clock });
    const fetchedAt = clock;
    clock = 105;
    cache.purge(['book:a']); // the withdrawal lands while the fetch is in flight
    clock = 110;
    expect(cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query', facts(['book:b'], fetchedAt))).toBe(false);
    expect(cache.get('k', caller(null))).toBeUndefined();
    expect(cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query', facts(['book:b'], 106))).toBe(true);
  });

  it('an expired entry leaves the tag index when it is found stale', () => {
    let clock = 1_000;
    const cache = createResponseCache({ now: () => clock });
    cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query', facts(['book:a']));
    expect(cache.get('k', caller(null))).toBeDefined();
    clock += 60_001;
    expect(cache.get('k', caller(null))).toBeUndefined();
    expect(cache.stats()).toEqual({ entries: 0, tags: 0, references: 0 });
  });

  it('refuses entries with more tags than allowed', () => {
    const cache = createResponseCache({ maxTagsPerEntry: 3 });
    expect(cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query', facts(['a', 'b', 'c', 'd']))).toBe(false);
    expect(cache.stats()).toEqual({ entries: 0, tags: 0, references: 0 });
  });

  it('clear() drops everything and the index with it', () => {
    const cache = createResponseCache();
    cache.maybeStore('k', caller(null), response('max-age=60, public'), 'query', facts(['book:a']));
    expect(cache.clear()).toBe(1);
    expect(cache.stats()).toEqual({ entries: 0, tags: 0, references: 0 });
  });
});
