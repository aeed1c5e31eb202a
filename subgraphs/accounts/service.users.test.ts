import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { PARTNER_SCOPES } from '../../lib/scopes.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { AccountService } from './service.js';
import { openAccountsStore } from './store.js';

const admin: Caller = { ...ANONYMOUS, userId: 'admin-1', roles: ['READER', 'EDITOR', 'ADMIN'] };
const editor: Caller = { ...ANONYMOUS, userId: 'editor-1', roles: ['READER', 'EDITOR'] };
const context = { userAgent: null, clientAddress: '127.0.0.1' };

describe('accounts: the admin user list and partner scopes', () => {
  const dataDir = tempDataDir();
  let storage: Storage;
  let service: AccountService;

  beforeAll(async () => {
    storage = await openStorage({ dataDir });
    service = new AccountService(await openAccountsStore(storage.db('folio_accounts')), { sessionTtlMs: 60_000, scryptLogN: 10, logger: createLogger('test', 'silent') });
    for (const name of ['carol', 'alice', 'bob', 'alfred', 'zed']) {
      await service.register({ username: name, password: `Correct horse ${name.length} battery staple ${name.charCodeAt(0)}`, displayName: name.toUpperCase() }, context);
    }
    const bob = (await service.listUsers(admin, { usernamePrefix: 'bob' }, {})).edges[0]!.node;
    await service.setRoles(admin, bob._id, ['READER', 'EDITOR']);
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('pages every user by username with a total, and follows the cursor', async () => {
    const first = await service.listUsers(admin, null, { first: 2 });
    expect(first.edges.map((e) => e.node.username)).toEqual(['alfred', 'alice']);
    expect(first).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const second = await service.listUsers(admin, null, { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.username)).toEqual(['bob', 'carol']);
    const last = await service.listUsers(admin, null, { first: 2, after: second.pageInfo.endCursor });
    expect(last.edges.map((e) => e.node.username)).toEqual(['zed']);
    expect(last.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by a username prefix (normalised) and by role, across pages', async () => {
    const al = await service.listUsers(admin, { usernamePrefix: ' AL' }, { first: 1 });
    expect(al.edges.map((e) => e.node.username)).toEqual(['alfred']);
    expect(al.totalCount).toBe(2);
    const rest = await service.listUsers(admin, { usernamePrefix: 'al' }, { first: 1, after: al.pageInfo.endCursor });
    expect(rest.edges.map((e) => e.node.username)).toEqual(['alice']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const editors = await service.listUsers(admin, { role: 'EDITOR' }, {});
    expect(editors.edges.map((e) => e.node.username)).toEqual(['bob']);
  });

  it('is for admins only, and bounds its inputs', async () => {
    await expect(service.listUsers(editor, null, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(service.listUsers(ANONYMOUS, null, {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(service.listUsers(admin, null, { first: 101 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.listUsers(admin, { usernamePrefix: 'x'.repeat(101) }, {})).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.listUsers(admin, null, { after: 'not a cursor' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('lists the partner scopes with what they grant, to admins', () => {
    expect(service.partnerScopes(admin)).toEqual(Object.entries(PARTNER_SCOPES).map(([name, description]) => ({ name, description })));
    expect(() => service.partnerScopes(editor)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it("lets an admin list and end another user's sessions; nobody else sees or ends them", async () => {
    const password = `Correct horse ${'carol'.length} battery staple ${'carol'.charCodeAt(0)}`;
    const { user } = await service.login('carol', password, context);
    await service.login('carol', password, context);
    const carol: Caller = { ...ANONYMOUS, userId: user._id, roles: ['READER'] };
    const listed = await service.listSessionsOf(admin, user._id);
    expect(listed.length).toBeGreaterThanOrEqual(2);
    expect(listed.every((x) => x.userId === user._id)).toBe(true);
    const target = listed[0]!._id;
    await expect(service.listSessionsOf(editor, user._id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Another user's session does not exist for a non-admin, whatever their role.
    await expect(service.revokeSession(editor, target)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await service.revokeSession(admin, target)).toBe(true);
    expect((await service.listSessions(carol)).map((x) => x._id)).not.toContain(target);
    await expect(service.revokeSession(admin, target)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
