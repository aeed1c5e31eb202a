import { describe, expect, it } from 'vitest';
import { requireRole, requireUser, territoryOf, type Caller } from './identity.js';

const alice: Caller = { userId: 'u1', roles: ['READER', 'EDITOR'], sessionId: 's1', partnerId: null, scopes: [], clientAddress: '10.0.0.1', territory: null };

describe('identity', () => {
  it('normalizes territories to two upper-case letters or null', () => {
    expect(territoryOf(' de ')).toBe('DE');
    expect(territoryOf('DEU')).toBeNull();
    expect(territoryOf('D1')).toBeNull();
    expect(territoryOf('')).toBeNull();
    expect(territoryOf(null)).toBeNull();
  });

  it('enforces sign-in and roles', () => {
    const anonymous: Caller = { ...alice, userId: null, roles: [] };
    expect(() => requireUser(anonymous)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(requireRole(alice, 'EDITOR')).toBe('u1');
    expect(() => requireRole(alice, 'ADMIN')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});
