import { describe, expect, it } from 'vitest';
import type { Caller } from './identity.js';
import {
  CALLER_HEADERS,
  MAX_CLOCK_SKEW_MS,
  NonceWindow,
  RequestVerifier,
  SIGNATURE_HEADERS,
  SIGNATURE_TTL_MS,
  signRequest,
  type SignedRequest,
} from './signing.js';

const secret = 'a-very-long-test-secret-a-very-long-test-secret';
const alice: Caller = { userId: 'u1', roles: ['READER', 'EDITOR'], sessionId: 's1', partnerId: null, scopes: [], clientAddress: '10.0.0.1', territory: null };
const request: SignedRequest = { audience: 'accounts', method: 'POST', pathAndQuery: '/graphql', body: '{"query":"{ me { id } }"}' };
const { audience: _audience, ...received } = request;

const verifier = (audience = 'accounts', now?: () => number): RequestVerifier => new RequestVerifier({ secret, audience, ...(now ? { now } : {}) });

describe('request signatures', () => {
  it('round-trips a caller, and a service call without one', () => {
    expect(verifier().verify(signRequest(secret, request, alice), received)).toEqual({ ok: true, caller: alice });
    expect(verifier().verify(signRequest(secret, request), received)).toEqual({ ok: true, caller: null });
  });

  it('carries the territory inside the signature, normalized', () => {
    const inGermany: Caller = { ...alice, territory: 'de' };
    const headers = signRequest(secret, request, inGermany);
    expect(headers[CALLER_HEADERS.territory]).toBe('DE');
    expect(verifier().verify(headers, received)).toEqual({ ok: true, caller: { ...alice, territory: 'DE' } });
  });

  it('refuses each bound part of the request when tampered with', () => {
    const tampered: Array<[string, Omit<SignedRequest, 'audience'>]> = [
      ['method', { ...received, method: 'GET' }],
      ['path', { ...received, pathAndQuery: '/internal/auth/resolve' }],
      ['query', { ...received, pathAndQuery: '/graphql?x=1' }],
      ['body', { ...received, body: '{"query":"mutation { setUserRoles(userId: \\"u2\\", roles: [ADMIN]) { id } }"}' }],
      ['body bytes', { ...received, body: Buffer.from(`${request.body as string} `) }],
    ];
    for (const [part, changed] of tampered) {
      expect(verifier().verify(signRequest(secret, request, alice), changed), part).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  it('refuses a signature made for another audience', () => {
    const headers = signRequest(secret, { ...request, audience: 'ugc' }, alice);
    expect(verifier('accounts').verify(headers, received)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifier('ugc').verify(headers, received).ok).toBe(true);
  });

  it('refuses each tampered caller field, and added or removed caller headers', () => {
    for (const [header, value] of [
      [CALLER_HEADERS.userId, 'u2'],
      [CALLER_HEADERS.roles, 'READER,EDITOR,ADMIN'],
      [CALLER_HEADERS.sessionId, 's2'],
      [CALLER_HEADERS.partnerId, 'p1'],
      [CALLER_HEADERS.scopes, 'catalog:read'],
      [CALLER_HEADERS.clientAddress, '10.0.0.2'],
      [CALLER_HEADERS.territory, 'FR'],
    ] as const) {
      expect(verifier().verify({ ...signRequest(secret, request, alice), [header]: value }, received), header).toEqual({ ok: false, reason: 'bad-signature' });
    }
    // A service signature with caller headers added, and a caller signature with them removed.
    expect(verifier().verify({ ...signRequest(secret, request), [CALLER_HEADERS.roles]: 'ADMIN' }, received)).toEqual({ ok: false, reason: 'bad-signature' });
    const stripped = signRequest(secret, request, alice);
    for (const name of Object.values(CALLER_HEADERS)) delete stripped[name];
    expect(verifier().verify(stripped, received)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a tampered nonce, expiry or signature, another secret, and missing headers', () => {
    const headers = signRequest(secret, request, alice);
    const otherNonce = { ...headers, [SIGNATURE_HEADERS.nonce]: '00000000-0000-4000-8000-000000000000' };
    expect(verifier().verify(otherNonce, received)).toEqual({ ok: false, reason: 'bad-signature' });
    const laterExpiry = { ...headers, [SIGNATURE_HEADERS.expires]: String(Number(headers[SIGNATURE_HEADERS.expires]) + 1_000) };
    expect(verifier().verify(laterExpiry, received)).toEqual({ ok: false, reason: 'bad-signature' });
    const sig = headers[SIGNATURE_HEADERS.signature]!;
    const flipped = { ...headers, [SIGNATURE_HEADERS.signature]: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) };
    expect(verifier().verify(flipped, received)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifier().verify(signRequest('another-secret-another-secret-another', request, alice), received)).toEqual({ ok: false, reason: 'bad-signature' });
    for (const name of Object.values(SIGNATURE_HEADERS)) {
      const missing: Record<string, string> = { ...headers };
      delete missing[name];
      expect(verifier().verify(missing, received), name).toEqual({ ok: false, reason: 'missing' });
    }
  });

  it('accepts a nonce once', () => {
    const v = verifier();
    const headers = signRequest(secret, request, alice);
    expect(v.verify(headers, received).ok).toBe(true);
    expect(v.verify(headers, received)).toEqual({ ok: false, reason: 'replayed' });
    // A fresh signature of the same request is a new request.
    expect(v.verify(signRequest(secret, request, alice), received).ok).toBe(true);
  });

  it('refuses expired signatures and expiries further ahead than the TTL plus clock skew', () => {
    let now = 1_000_000;
    const v = verifier('accounts', () => now);
    const headers = signRequest(secret, request, alice, now);
    now += SIGNATURE_TTL_MS;
    expect(v.verify(headers, received)).toEqual({ ok: false, reason: 'expired' });
    now = 1_000_000;
    const future = signRequest(secret, request, alice, now + MAX_CLOCK_SKEW_MS + 1);
    expect(v.verify(future, received)).toEqual({ ok: false, reason: 'expired' });
    const slightlyAhead = signRequest(secret, request, alice, now + MAX_CLOCK_SKEW_MS - 1);
    expect(v.verify(slightlyAhead, received).ok).toBe(true);
  });

  it('reads Headers objects as well as plain records; a repeated header is refused', () => {
    expect(verifier().verify(new Headers(signRequest(secret, request, alice)), received).ok).toBe(true);
    const headers: Record<string, string | string[]> = { ...signRequest(secret, request, alice) };
    headers[SIGNATURE_HEADERS.nonce] = [headers[SIGNATURE_HEADERS.nonce] as string, 'aaaaaaaaaaaaaaaaaaaa'];
    expect(verifier().verify(headers, received)).toEqual({ ok: false, reason: 'missing' });
  });
});

describe('nonce window', () => {
  it('remembers a nonce for at least the window, forgets it within two, and stays bounded', () => {
    const window = new NonceWindow({ windowMs: 100, maxEntries: 3 });
    expect(window.accept('a', 0)).toBe('ok');
    expect(window.accept('b', 99)).toBe('ok');
    expect(window.accept('a', 99)).toBe('replayed');
    // The first request past the window (150) rotates: a and b move to the previous generation, still refused.
    expect(window.accept('b', 150)).toBe('replayed');
    expect(window.accept('a', 199)).toBe('replayed');
    expect(window.accept('c', 199)).toBe('ok');
    expect(window.accept('d', 199)).toBe('busy'); // a, b, c held: full, fail closed
    // The next rotation (250): a and b, seen more than a window ago, are dropped; c is still remembered.
    expect(window.accept('c', 250)).toBe('replayed');
    expect(window.accept('a', 250)).toBe('ok');
    expect(window.size).toBe(2);
    // Idle for two windows: everything is forgotten.
    expect(window.accept('c', 1_000)).toBe('ok');
    expect(window.size).toBe(1);
  });
});
