import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { AccountService, requiredScopes } from './service.js';
import { openAccountsStore } from './store.js';

const admin: Caller = { ...ANONYMOUS, userId: 'admin-1', roles: ['READER', 'EDITOR', 'ADMIN'] };

describe('accounts: trusted documents on the real store', () => {
  const dataDir = tempDataDir();
  let storage: Storage;
  let service: AccountService;

  beforeAll(async () => {
    storage = await openStorage({ dataDir });
    service = new AccountService(await openAccountsStore(storage.db('folio_accounts')), { sessionTtlMs: 60_000, scryptLogN: 10, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Registering used to upsert with the _id inside $setOnInsert, which the embedded engine refuses
  // (ImmutableField): every registerTrustedDocument through the platform was INTERNAL_SERVER_ERROR.
  it('registers a document by its sha256, idempotently, and lists it', async () => {
    const body = 'query PartnerBooks { books(first: 5) { totalCount } }';
    const first = await service.registerTrustedDocument(admin, { body, clientName: 'acme' });
    expect(first._id).toMatch(/^[0-9a-f]{64}$/);
    expect(first).toMatchObject({ body, clientName: 'acme', createdBy: 'admin-1' });
    const again = await service.registerTrustedDocument(admin, { body, clientName: 'other' });
    expect(again).toEqual(first);
    expect((await service.listTrustedDocuments(admin)).map((d) => d._id)).toEqual([first._id]);
  });

  it('refuses a document with a root field no partner key can have, and names it', async () => {
    const body = 'query Books { books(first: 1) { totalCount } } mutation Join { register(input: { username: "x", password: "y", displayName: "z" }) { token } }';
    await expect(service.registerTrustedDocument(admin, { body })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('Mutation.register') });
    expect((await service.listTrustedDocuments(admin)).map((d) => d.body)).not.toContain(body);
    expect(requiredScopes('query { books(first: 1) { totalCount } search(query: "x") { books { totalCount } } }')).toEqual(['catalog:read', 'search:read']);
  });

  it('gives keys only scopes that exist', async () => {
    await expect(service.createApiKey(admin, { name: 'typo', scopes: ['catalog:reed'] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const { doc } = await service.createApiKey(admin, { name: 'reader', scopes: ['catalog:read', 'search:read'] });
    expect(doc.scopes).toEqual(['catalog:read', 'search:read']);
  });

  it('refuses non-admins and invalid GraphQL', async () => {
    await expect(service.registerTrustedDocument({ ...admin, roles: ['READER'] }, { body: '{ __typename }' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(service.registerTrustedDocument(admin, { body: '{ books { ' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
