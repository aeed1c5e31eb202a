import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import type { SharedResponse } from './inflightDedup.js';
import { createResponseCache } from './responseCache.js';

const caller = (userId: string | null, roles: Caller['roles'] = []): Caller => ({ ...ANONYMOUS, userId, roles, clientAddress: '1.2.3.4' });
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
});
