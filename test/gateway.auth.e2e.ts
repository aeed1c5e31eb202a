/** Gateway authentication, identity signing, partners' trusted documents, APQ and introspection rules. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partner, startTestStack, user, type TestStack } from './kit/gatewayStack.js';
import { errorCodes, graphql } from './kit/platform.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const TRUSTED = 'query PartnerBooks { books { id title } }';

describe('gateway authentication and access rules (production mode)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ FOLIO_GATEWAY_AUTH_CACHE_SECONDS: '1' });
    stack.accounts.tokens.set('tok-reader', user('u-reader'));
    stack.accounts.tokens.set('tok-admin', user('u-admin', ['ADMIN']));
    stack.accounts.apiKeys.set('key-partner', partner('p-1', { points: 100, durationSeconds: 60 }));
    stack.accounts.documents.push({ id: sha256(TRUSTED), body: TRUSTED, clientName: 'partner-1' });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('signs the resolved caller into every subgraph request', async () => {
    const result = await graphql(stack.gateway, '{ me { userId roles partnerId } }', {}, { token: 'tok-reader' });
    expect(result.errors).toBeUndefined();
    expect(result.data?.me).toEqual({ userId: 'u-reader', roles: ['READER'], partnerId: null });
  });

  it('lets anonymous callers read public data', async () => {
    const result = await graphql(stack.gateway, '{ me { userId } books { id } }');
    expect(result.errors).toBeUndefined();
    expect(result.data?.me.userId).toBeNull();
  });

  it('refuses an invalid or expired token with UNAUTHENTICATED (401)', async () => {
    const result = await graphql(stack.gateway, '{ books { id } }', {}, { token: 'tok-expired' });
    expect(result.status).toBe(401);
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    const malformed = await graphql(stack.gateway, '{ books { id } }', {}, { headers: { authorization: 'Basic abc' } });
    expect(errorCodes(malformed)).toEqual(['UNAUTHENTICATED']);
  });

  it('stops honouring a revoked session within the auth cache TTL', async () => {
    stack.accounts.tokens.set('tok-revoke', user('u-revoke'));
    expect((await graphql(stack.gateway, '{ me { userId } }', {}, { token: 'tok-revoke' })).data?.me.userId).toBe('u-revoke');
    stack.accounts.tokens.delete('tok-revoke');
    await new Promise((r) => setTimeout(r, 1100));
    expect(errorCodes(await graphql(stack.gateway, '{ me { userId } }', {}, { token: 'tok-revoke' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('caches resolutions: repeated requests with one token cost one accounts call', async () => {
    stack.accounts.tokens.set('tok-hot', user('u-hot'));
    const before = stack.accounts.resolveCalls();
    await Promise.all(Array.from({ length: 10 }, () => graphql(stack.gateway, '{ me { userId } }', {}, { token: 'tok-hot' })));
    expect(stack.accounts.resolveCalls() - before).toBe(1);
  });

  it('lets a partner run a trusted document by hash or documentId', async () => {
    const byHash = await graphql(stack.gateway, undefined, {}, {
      apiKey: 'key-partner',
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(TRUSTED) } },
    });
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data?.books).toHaveLength(3);
    const response = await fetch(stack.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'key-partner' },
      body: JSON.stringify({ documentId: `sha256:${sha256(TRUSTED)}` }),
    });
    expect(((await response.json()) as { data: { books: unknown[] } }).data.books).toHaveLength(3);
  });

  it('refuses a partner running an unregistered query', async () => {
    const raw = await graphql(stack.gateway, '{ books { id title } }', {}, { apiKey: 'key-partner' });
    expect(errorCodes(raw)).toEqual(['FORBIDDEN']);
    const unknownHash = await graphql(stack.gateway, undefined, {}, {
      apiKey: 'key-partner',
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ me { userId } }') } },
    });
    expect(errorCodes(unknownHash)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    // An APQ registration attempt (hash + text) is not a way around the allow-list.
    const register = await graphql(stack.gateway, '{ me { userId } }', {}, {
      apiKey: 'key-partner',
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ me { userId } }') } },
    });
    expect(errorCodes(register)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('picks up a newly registered trusted document', async () => {
    const body = 'query PartnerTitles { books { title } }';
    expect(errorCodes(await graphql(stack.gateway, undefined, {}, { apiKey: 'key-partner', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(body) } } }))).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    stack.accounts.documents.push({ id: sha256(body), body, clientName: null });
    await new Promise((r) => setTimeout(r, 1100));
    const result = await graphql(stack.gateway, undefined, {}, { apiKey: 'key-partner', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(body) } } });
    expect(result.errors).toBeUndefined();
  });

  it('supports automatic persisted queries for app clients', async () => {
    const query = '{ books { id } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    expect(errorCodes(await graphql(stack.gateway, undefined, {}, { extensions }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await graphql(stack.gateway, query, {}, { extensions })).errors).toBeUndefined();
    const hit = await graphql(stack.gateway, undefined, {}, { extensions });
    expect(hit.errors).toBeUndefined();
    expect(hit.data?.books).toHaveLength(3);
  });

  it('refuses introspection to a reader in production with a clear error, allows it to an admin', async () => {
    const introspection = '{ __schema { queryType { name } } }';
    const reader = await graphql(stack.gateway, introspection, {}, { token: 'tok-reader' });
    expect(errorCodes(reader)).toEqual(['FORBIDDEN']);
    expect(reader.errors?.[0]?.message).toMatch(/introspection/i);
    const anonymous = await graphql(stack.gateway, '{ books { id } __type(name: "Book") { name } }');
    expect(errorCodes(anonymous)).toEqual(['FORBIDDEN']);
    const admin = await graphql(stack.gateway, introspection, {}, { token: 'tok-admin' });
    expect(admin.errors).toBeUndefined();
    expect(admin.data?.__schema.queryType.name).toBe('Query');
    expect((await graphql(stack.gateway, '{ books { __typename } }')).errors).toBeUndefined();
  });
});

describe('gateway in development mode', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ NODE_ENV: 'development' });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('allows introspection to anyone', async () => {
    const result = await graphql(stack.gateway, '{ __schema { queryType { name } } }');
    expect(result.errors).toBeUndefined();
  });
});
