import { describe, expect, it } from 'vitest';
import { IDENTITY_HEADERS, IDENTITY_TTL_MS, requireRole, requireUser, signIdentity, territoryOf, verifyIdentity, type Caller } from './identity.js';

const secret = 'a-very-long-test-secret-a-very-long-test-secret';
const alice: Caller = { userId: 'u1', roles: ['READER', 'EDITOR'], sessionId: 's1', partnerId: null, scopes: [], clientAddress: '10.0.0.1', territory: null };

describe('signed identity headers', () => {
  it('round-trips a caller', () => {
    const result = verifyIdentity(signIdentity(alice, secret), secret);
    expect(result).toEqual({ ok: true, caller: alice });
  });

  it('carries the territory inside the signature', () => {
    const inGermany: Caller = { ...alice, territory: 'DE' };
    const headers = signIdentity(inGermany, secret);
    expect(headers[IDENTITY_HEADERS.territory]).toBe('DE');
    expect(verifyIdentity(headers, secret)).toEqual({ ok: true, caller: inGermany });
    for (const forged of ['FR', '', 'de']) {
      expect(verifyIdentity({ ...headers, [IDENTITY_HEADERS.territory]: forged }, secret), forged).toEqual({ ok: false, reason: 'bad-signature' });
    }
    // Adding a territory to an identity signed without one breaks it too.
    expect(verifyIdentity({ ...signIdentity(alice, secret), [IDENTITY_HEADERS.territory]: 'DE' }, secret).ok).toBe(false);
  });

  it('normalizes territories to two upper-case letters or null', () => {
    expect(territoryOf(' de ')).toBe('DE');
    expect(territoryOf('DEU')).toBeNull();
    expect(territoryOf('D1')).toBeNull();
    expect(territoryOf('')).toBeNull();
    expect(territoryOf(null)).toBeNull();
    expect(verifyIdentity(signIdentity({ ...alice, territory: 'not\na country' }, secret), secret)).toMatchObject({ ok: true, caller: { territory: null } });
  });

  it('rejects missing headers', () => {
    expect(verifyIdentity({ [IDENTITY_HEADERS.userId]: 'u1' }, secret)).toEqual({ ok: false, reason: 'missing' });
  });

  it('rejects any tampered field', () => {
    for (const [header, value] of [
      [IDENTITY_HEADERS.userId, 'u2'],
      [IDENTITY_HEADERS.roles, 'READER,EDITOR,ADMIN'],
      [IDENTITY_HEADERS.partnerId, 'p1'],
      [IDENTITY_HEADERS.expires, String(Date.now() + 10 * IDENTITY_TTL_MS)],
    ] as const) {
      const headers = { ...signIdentity(alice, secret), [header]: value };
      expect(verifyIdentity(headers, secret), header).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  it('rejects another secret and an expired signature', () => {
    expect(verifyIdentity(signIdentity(alice, 'another-secret-another-secret-another'), secret).ok).toBe(false);
    const old = signIdentity(alice, secret, Date.now() - 2 * IDENTITY_TTL_MS);
    expect(verifyIdentity(old, secret)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reads Headers objects as well as plain records', () => {
    const headers = new Headers(signIdentity(alice, secret));
    expect(verifyIdentity(headers, secret).ok).toBe(true);
  });

  it('enforces sign-in and roles', () => {
    const anonymous: Caller = { ...alice, userId: null, roles: [] };
    expect(() => requireUser(anonymous)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(requireRole(alice, 'EDITOR')).toBe('u1');
    expect(() => requireRole(alice, 'ADMIN')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});
