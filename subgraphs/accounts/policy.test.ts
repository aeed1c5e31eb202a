import { describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { ANONYMOUS } from '../../lib/identity.js';
import { authorize, can, type Viewer } from './policy.js';

const reader: Viewer = { ...ANONYMOUS, userId: 'u1', roles: ['READER'], sessionId: 's1' };
const other: Viewer = { ...ANONYMOUS, userId: 'u2', roles: ['READER', 'EDITOR'] };
const admin: Viewer = { ...ANONYMOUS, userId: 'a1', roles: ['READER', 'EDITOR', 'ADMIN'] };
const partner: Viewer = { ...ANONYMOUS, partnerId: 'k1', scopes: ['accounts:admin'] };

const codeOf = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (error) {
    return (error as FolioError).code;
  }
};

describe('accounts policy', () => {
  it('shows private profile fields to the user, to an admin, and to whoever just signed in as that user', () => {
    expect(can(reader, 'user.readPrivate', { _id: 'u1' })).toBe(true);
    expect(can(admin, 'user.readPrivate', { _id: 'u1' })).toBe(true);
    expect(can(other, 'user.readPrivate', { _id: 'u1' })).toBe(false);
    expect(can(ANONYMOUS, 'user.readPrivate', { _id: 'u1' })).toBe(false);
    expect(can({ ...ANONYMOUS, provenUserIds: new Set(['u1']) }, 'user.readPrivate', { _id: 'u1' })).toBe(true);
  });

  it('lets only admins set roles and manage API keys and trusted documents; partners and editors get nothing', () => {
    for (const action of ['user.setRoles', 'apiKey.manage', 'trustedDocument.manage'] as const) {
      expect(codeOf(() => authorize(admin, action, null))).toBeNull();
      expect(codeOf(() => authorize(other, action, null))).toBe('FORBIDDEN');
      expect(codeOf(() => authorize(reader, action, null))).toBe('FORBIDDEN');
      expect(codeOf(() => authorize(partner, action, null))).toBe('UNAUTHENTICATED');
      expect(codeOf(() => authorize(ANONYMOUS, action, null))).toBe('UNAUTHENTICATED');
    }
  });

  it('shows recorded field usage to admins only; a partner key is refused outright', () => {
    expect(codeOf(() => authorize(admin, 'schemaUsage.read', null))).toBeNull();
    expect(codeOf(() => authorize(other, 'schemaUsage.read', null))).toBe('FORBIDDEN');
    expect(codeOf(() => authorize(reader, 'schemaUsage.read', null))).toBe('FORBIDDEN');
    expect(codeOf(() => authorize(partner, 'schemaUsage.read', null))).toBe('FORBIDDEN');
    expect(codeOf(() => authorize(ANONYMOUS, 'schemaUsage.read', null))).toBe('UNAUTHENTICATED');
  });

  it("answers another user's session exactly like a session that does not exist", () => {
    expect(codeOf(() => authorize(reader, 'session.revoke', { userId: 'u1' }))).toBeNull();
    expect(codeOf(() => authorize(reader, 'session.revoke', { userId: 'u2' }))).toBe('NOT_FOUND');
    expect(codeOf(() => authorize(reader, 'session.revoke', null))).toBe('NOT_FOUND');
    // An admin ends anyone's session (a compromised account, from the console's people page)…
    expect(codeOf(() => authorize(admin, 'session.revoke', { userId: 'u1' }))).toBeNull();
    expect(codeOf(() => authorize(admin, 'session.revoke', null))).toBe('NOT_FOUND');
    // …and lists them; nobody else does.
    expect(codeOf(() => authorize(admin, 'session.listAny', null))).toBeNull();
    expect(codeOf(() => authorize(reader, 'session.listAny', null))).toBe('FORBIDDEN');
    expect(codeOf(() => authorize(ANONYMOUS, 'session.revoke', { userId: 'u1' }))).toBe('UNAUTHENTICATED');
  });

  it('requires a signed-in user for their own profile and sessions', () => {
    for (const action of ['user.updateOwnProfile', 'session.manageOwn'] as const) {
      expect(can(reader, action, null)).toBe(true);
      expect(codeOf(() => authorize(ANONYMOUS, action, null))).toBe('UNAUTHENTICATED');
      expect(codeOf(() => authorize(partner, action, null))).toBe('UNAUTHENTICATED');
    }
  });
});
