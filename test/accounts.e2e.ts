import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../lib/identity.js';
import { LOGIN, REGISTER, loginAdmin, registerUser } from './kit/accounts.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  // 100 registrations at once from one address (127.0.0.1) is one client to the gateway's admission
  // control; this suite tests the account allocator, so that client may have them all in flight.
  platform = await startTestPlatform({ env: { FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: '200', FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS: '200' } });
});
afterAll(async () => platform?.stop());

const ME = `{ me { id vid username displayName roles } }`;

describe('accounts through the gateway', () => {
  it('registers, logs in and answers `me` with the signed-in user', async () => {
    const reg = await mustQuery(platform.gateway, REGISTER, { input: { username: 'Ada.Lovelace', password: 'analytical engine 1843', displayName: 'Ada' } });
    expect(reg.register.user.username).toBe('ada.lovelace');
    expect(reg.register.user.vid).toBeGreaterThan(0);
    const login = await mustQuery(platform.gateway, LOGIN, { username: 'ADA.LOVELACE', password: 'analytical engine 1843' });
    expect(login.login.user.roles).toEqual(['READER']);
    expect(login.login.token).toMatch(/^fst_/);
    const me = await mustQuery(platform.gateway, ME, {}, { token: login.login.token });
    expect(me.me).toMatchObject({ id: reg.register.user.id, username: 'ada.lovelace', displayName: 'Ada', roles: ['READER'] });
  });

  it('answers `me` with null for an anonymous caller', async () => {
    expect((await mustQuery(platform.gateway, ME)).me).toBeNull();
  });

  it('makes a wrong password and an unknown user look the same', async () => {
    const user = await registerUser(platform.gateway);
    const wrong = await graphql(platform.gateway, LOGIN, { username: user.username, password: 'not-the-password' });
    const unknown = await graphql(platform.gateway, LOGIN, { username: 'nobody_here_at_all', password: 'not-the-password' });
    expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(unknown)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
  });

  it('refuses a taken username (CONFLICT), a weak password and over-long fields (BAD_USER_INPUT)', async () => {
    const user = await registerUser(platform.gateway);
    const taken = await graphql(platform.gateway, REGISTER, { input: { username: user.username.toUpperCase(), password: 'another good password', displayName: 'x' } });
    expect(errorCodes(taken)).toEqual(['CONFLICT']);
    const weak = await graphql(platform.gateway, REGISTER, { input: { username: 'weakling', password: 'short', displayName: 'x' } });
    expect(errorCodes(weak)).toEqual(['BAD_USER_INPUT']);
    expect(weak.errors![0]!.extensions!.field).toBe('password');
    const long = await graphql(platform.gateway, REGISTER, { input: { username: 'longname', password: 'a fine password 123', displayName: 'x'.repeat(10_000) } });
    expect(errorCodes(long)).toEqual(['BAD_USER_INPUT']);
    const badName = await graphql(platform.gateway, REGISTER, { input: { username: '../../etc', password: 'a fine password 123', displayName: 'x' } });
    expect(errorCodes(badName)).toEqual(['BAD_USER_INPUT']);
  });

  it('gives 100 concurrent registrations 100 distinct vids, and exactly one of 50 racers the same name', async () => {
    const distinct = await Promise.all(Array.from({ length: 100 }, (_, i) => registerUser(platform.gateway, { username: `crowd_${i}` })));
    expect(new Set(distinct.map((u) => u.vid)).size).toBe(100);
    expect(new Set(distinct.map((u) => u.id)).size).toBe(100);

    const racers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => graphql(platform.gateway, REGISTER, { input: { username: 'contested', password: `racer password ${i}`, displayName: `r${i}` } })),
    );
    const winners = racers.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(racers.filter((r) => errorCodes(r)[0] === 'CONFLICT')).toHaveLength(49);
  });

  it('lists sessions, revokes one, and a revoked token stops working', async () => {
    const user = await registerUser(platform.gateway);
    const second = (await mustQuery(platform.gateway, LOGIN, { username: user.username, password: user.password })).login.token as string;
    const sessions = (await mustQuery(platform.gateway, `{ mySessions { id current } }`, {}, { token: user.token })).mySessions as Array<{ id: string; current: boolean }>;
    expect(sessions).toHaveLength(2);
    const other = sessions.find((s) => !s.current)!;
    expect(await mustQuery(platform.gateway, `mutation($id: ID!) { revokeSession(id: $id) }`, { id: other.id }, { token: user.token })).toEqual({ revokeSession: true });
    // The gateway caches token resolution for a few seconds, so revocation takes effect within that window.
    await eventually(async () => errorCodes(await graphql(platform.gateway, ME, {}, { token: second })).includes('UNAUTHENTICATED'));
    expect((await mustQuery(platform.gateway, ME, {}, { token: user.token })).me.id).toBe(user.id);
  });

  it('updates the profile and validates it', async () => {
    const user = await registerUser(platform.gateway);
    const updated = await mustQuery(platform.gateway, `mutation { updateProfile(input: { displayName: "Grace", bio: "Compilers." }) { displayName bio } }`, {}, { token: user.token });
    expect(updated.updateProfile).toEqual({ displayName: 'Grace', bio: 'Compilers.' });
    const bad = await graphql(platform.gateway, `mutation { updateProfile(input: { avatarUrl: "javascript:alert(1)" }) { id } }`, {}, { token: user.token });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    const anon = await graphql(platform.gateway, `mutation { updateProfile(input: { displayName: "x" }) { id } }`);
    expect(errorCodes(anon)).toEqual(['UNAUTHENTICATED']);
  });

  it('slows password guessing: one address runs out of guesses for a username', async () => {
    const user = await registerUser(platform.gateway);
    const attempts = [];
    for (let i = 0; i < 7; i++) attempts.push(await graphql(platform.gateway, LOGIN, { username: user.username, password: `guess-${i}-xxxxx` }));
    expect(errorCodes(attempts[0]!)).toEqual(['UNAUTHENTICATED']);
    const last = attempts.at(-1)!;
    expect(errorCodes(last)).toEqual(['RATE_LIMITED']);
    expect(last.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    // Even the right password is refused from that address while its budget is spent.
    expect(errorCodes(await graphql(platform.gateway, LOGIN, { username: user.username, password: user.password }))).toEqual(['RATE_LIMITED']);
  });

  it('lets only admins change roles, and the configured admin exists', async () => {
    const reader = await registerUser(platform.gateway);
    const denied = await graphql(platform.gateway, `mutation($id: ID!) { setUserRoles(userId: $id, roles: [ADMIN]) { id } }`, { id: reader.id }, { token: reader.token });
    expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    const admin = await loginAdmin(platform.gateway);
    const promoted = await mustQuery(platform.gateway, `mutation($id: ID!) { setUserRoles(userId: $id, roles: [EDITOR]) { roles } }`, { id: reader.id }, { token: admin });
    expect(promoted.setUserRoles.roles).toEqual(['READER', 'EDITOR']);
  });

  it('hides roles from other users', async () => {
    const a = await registerUser(platform.gateway);
    const b = await registerUser(platform.gateway);
    const seen = await mustQuery(platform.gateway, `query($id: ID!) { user(id: $id) { username roles } }`, { id: a.id }, { token: b.token });
    expect(seen.user).toEqual({ username: a.username, roles: null });
  });
});

describe('subgraphs trust only the gateway', () => {
  it('refuses a direct subgraph call with a forged x-folio-user-id', async () => {
    const victim = await registerUser(platform.gateway);
    const response = await graphql(platform.services.accounts!.url, ME, {}, { headers: { 'x-folio-user-id': victim.id, 'x-folio-roles': 'ADMIN' } });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses identity headers signed with another secret', async () => {
    const victim = await registerUser(platform.gateway);
    const caller: Caller = { userId: victim.id, roles: ['ADMIN'], sessionId: null, partnerId: null, scopes: [], clientAddress: '1.2.3.4', territory: null };
    const response = await graphql(platform.services.accounts!.url, ME, {}, { signAs: { secret: 'not-the-real-secret-not-the-real-secret', audience: 'accounts', caller } });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('accepts correctly signed identity headers (the gateway path)', async () => {
    const user = await registerUser(platform.gateway);
    const caller: Caller = { userId: user.id, roles: ['READER'], sessionId: null, partnerId: null, scopes: [], clientAddress: '127.0.0.1', territory: null };
    const response = await mustQuery(platform.services.accounts!.url, ME, {}, { signAs: { secret: platform.config.internalSecret, audience: 'accounts', caller } });
    expect(response.me.id).toBe(user.id);
  });

  it('refuses unsigned calls to internal endpoints', async () => {
    const base = platform.services.accounts!.url.replace(/\/graphql$/, '');
    const response = await fetch(`${base}/internal/auth/resolve`, { method: 'POST', body: '{"token":"x"}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(401);
  });
});
