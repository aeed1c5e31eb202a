/**
 * Issue 9 §6, from the attacker's side: a partner whose key has scopes ["catalog:read"] tries to
 * run operations outside them — a trusted document that calls `register`, one that searches — and
 * tries to get such a document registered in the first place.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { databaseName } from '../../lib/service.js';
import { loginAdmin } from '../kit/accounts.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const REGISTER_DOC = 'mutation Join { register(input: { username: "partner_made_me", password: "correct horse battery staple", displayName: "x" }) { token } }';
const BOOKS_DOC = 'query PartnerBooks { books(first: 5) { totalCount } }';
const SEARCH_DOC = 'query PartnerSearch { search(query: "lighthouse") { books { totalCount } } }';

describe('security: partner scopes are enforced (issue 9 §6)', () => {
  let platform: TestPlatform;
  let admin: string;
  let catalogKey: { key: string; id: string };
  let searchKey: { key: string; id: string };

  const q = (query: string, variables: Record<string, unknown> = {}) => mustQuery(platform.gateway, query, variables, { token: admin });
  const createKey = async (scopes: string[]) => {
    const { createApiKey } = await q('mutation($s: [String!]!) { createApiKey(input: { name: "acme", scopes: $s }) { key apiKey { id } } }', { s: scopes });
    return { key: createApiKey.key as string, id: createApiKey.apiKey.id as string };
  };
  const accounts = () => platform.storage.db(databaseName('accounts'));
  const users = () => accounts().collection<{ _id: string; username: string }>('users');
  const runAsPartner = (key: string, document: string) =>
    graphql(platform.gateway, undefined, {}, { apiKey: key, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } } });

  beforeAll(async () => {
    platform = await startTestPlatform();
    admin = await loginAdmin(platform.gateway);
    catalogKey = await createKey(['catalog:read']);
    searchKey = await createKey(['catalog:read', 'search:read']);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses to register a trusted document that calls register, naming the field', async () => {
    const refused = await graphql(platform.gateway, 'mutation($b: String!) { registerTrustedDocument(input: { body: $b }) { id } }', { b: REGISTER_DOC }, { token: admin });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0]!.message).toContain('Mutation.register');
    const { trustedDocuments } = await q('{ trustedDocuments { id } }');
    expect(trustedDocuments.map((d: { id: string }) => d.id)).not.toContain(sha256(REGISTER_DOC));
  });

  it('shows the scopes a registered document needs, and refuses a key a scope that does not exist', async () => {
    const { registerTrustedDocument } = await q('mutation($b: String!) { registerTrustedDocument(input: { body: $b }) { id requiredScopes } }', { b: SEARCH_DOC });
    expect(registerTrustedDocument).toEqual({ id: sha256(SEARCH_DOC), requiredScopes: ['search:read'] });
    const typo = await graphql(platform.gateway, 'mutation { createApiKey(input: { name: "x", scopes: ["catalog:write"] }) { key } }', {}, { token: admin });
    expect(errorCodes(typo)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses at execution a document calling register that is already on the allow-list (registered before the check)', async () => {
    // What an allow-list from before this fix can hold: written straight into accounts' store.
    await accounts()
      .collection<{ _id: string; body: string; clientName: string | null; createdBy: string; createdAt: Date }>('trusted_documents')
      .insertOne({ _id: sha256(REGISTER_DOC), body: REGISTER_DOC, clientName: 'legacy', createdBy: 'admin', createdAt: new Date() });
    const attempt = await eventually(async () => {
      const result = await runAsPartner(catalogKey.key, REGISTER_DOC);
      return errorCodes(result)[0] === 'PERSISTED_QUERY_NOT_FOUND' ? null : result;
    });
    expect(errorCodes(attempt)).toEqual(['FORBIDDEN']);
    expect(attempt.status).toBe(403);
    // No account was created under the attacker's chosen name.
    expect(await users().countDocuments({ username: 'partner_made_me' })).toBe(0);
  });

  it('refuses a catalog:read key a search document, and serves the key that has search:read', async () => {
    const refused = await eventually(async () => {
      const result = await runAsPartner(catalogKey.key, SEARCH_DOC);
      return errorCodes(result)[0] === 'PERSISTED_QUERY_NOT_FOUND' ? null : result;
    });
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.errors![0]!.extensions).toMatchObject({ missingScopes: ['search:read'] });
    const served = await runAsPartner(searchKey.key, SEARCH_DOC);
    expect(served.errors ?? []).toEqual([]);
    expect(served.data!.search.books.totalCount).toBeGreaterThanOrEqual(0);
  });

  it('serves a partner the catalogue with catalog:read, and never hands its cached answer to a key without the scope', async () => {
    await q('mutation($b: String!) { registerTrustedDocument(input: { body: $b }) { id } }', { b: BOOKS_DOC });
    const served = await eventually(async () => {
      const result = await runAsPartner(catalogKey.key, BOOKS_DOC);
      return result.data ? result : null;
    });
    expect(served.data!.books.totalCount).toBeGreaterThanOrEqual(0);
    const noScopes = await createKey(['profiles:read']);
    // The same request body a partner with the scope just made: cached responses are shared among partners.
    const refused = await runAsPartner(noScopes.key, BOOKS_DOC);
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.data ?? null).toBeNull();
  });

  it('refuses a partner identity at the subgraph too, for a root field outside its scopes', async () => {
    // Defence in depth: even a request signed as the gateway signs it cannot take a partner past its scopes.
    const partner: Caller = { ...ANONYMOUS, partnerId: catalogKey.id, scopes: ['catalog:read'], clientAddress: '127.0.0.1' };
    const signAs = { secret: platform.config.internalSecret, caller: partner };
    const search = await graphql(platform.services.search!.url, SEARCH_DOC, {}, { signAs: { ...signAs, audience: 'search' } });
    expect(errorCodes(search)).toEqual(['FORBIDDEN']);
    const join = await graphql(platform.services.accounts!.url, REGISTER_DOC, {}, { signAs: { ...signAs, audience: 'accounts' } });
    expect(errorCodes(join)).toEqual(['FORBIDDEN']);
    expect(await users().countDocuments({ username: 'partner_made_me' })).toBe(0);
    const books = await graphql(platform.services.catalog!.url, BOOKS_DOC, {}, { signAs: { ...signAs, audience: 'catalog' } });
    expect(books.errors ?? []).toEqual([]);
  });
});
