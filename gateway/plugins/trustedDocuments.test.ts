import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { createTrustedDocuments, type GraphQLBody } from './trustedDocuments.js';

const body = '{ books { id } }';
const id = createHash('sha256').update(body).digest('hex');
const partner = { ...ANONYMOUS, partnerId: 'p1', scopes: ['catalog:read'] };
const failure = (p: Promise<void>) => p.then(() => null, (e: unknown) => (e as FolioError).code);

describe('trusted documents', () => {
  it('resolves a partner request by hash or documentId and refuses everything else', async () => {
    let loads = 0;
    const trusted = createTrustedDocuments({ load: async () => (loads++, [{ id, body, clientName: null }]), minMissRefreshMs: 0 });
    const byHash: GraphQLBody = { extensions: { persistedQuery: { version: 1, sha256Hash: id } } };
    await trusted.apply(byHash, partner);
    expect(byHash.query).toBe(body);
    const byId: GraphQLBody = { documentId: `sha256:${id}` };
    await trusted.apply(byId, partner);
    expect(byId.query).toBe(body);
    expect(await failure(trusted.apply({ query: body }, partner))).toBe('FORBIDDEN');
    expect(await failure(trusted.apply({ documentId: 'f'.repeat(64) }, partner))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await failure(trusted.apply({ documentId: 'not-a-hash' }, partner))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(loads).toBeGreaterThanOrEqual(2); // a miss re-reads the list
  });

  it('leaves app clients to APQ unless they ask for a documentId', async () => {
    const trusted = createTrustedDocuments({ load: async () => [{ id, body, clientName: null }] });
    const app: GraphQLBody = { query: '{ me { id } }' };
    await trusted.apply(app, ANONYMOUS);
    expect(app.query).toBe('{ me { id } }');
    const byId: GraphQLBody = { documentId: id };
    await trusted.apply(byId, ANONYMOUS);
    expect(byId.query).toBe(body);
  });

  it("runs a partner's document only with the scopes of the operation it runs", async () => {
    const mixed = 'query Books { books { edges { node { id } } } } query Find { search(query: "x") { books { totalCount } } } mutation Join { register(input: { username: "x", password: "y", displayName: "z" }) { token } }';
    const mixedId = createHash('sha256').update(mixed).digest('hex');
    const trusted = createTrustedDocuments({ load: async () => [{ id: mixedId, body: mixed, clientName: null }] });
    const run = (operationName: string | undefined, caller: Caller = partner) => failure(trusted.apply({ documentId: mixedId, operationName }, caller));
    expect(await run('Books')).toBeNull();
    expect(await run('Find')).toBe('FORBIDDEN');
    expect(await run('Find', { ...partner, scopes: ['search:read'] })).toBeNull();
    expect(await run('Join', { ...partner, scopes: ['catalog:read', 'search:read', 'notes:read', 'profiles:read'] })).toBe('FORBIDDEN');
    expect(await run(undefined)).toBe('FORBIDDEN'); // no operation named: every operation's needs count
    expect(await run('Books', { ...partner, scopes: [] })).toBe('FORBIDDEN');
    // Not a partner: roles decide downstream, scopes do not apply.
    expect(await run('Join', ANONYMOUS)).toBeNull();
  });

  it('reports the list being unavailable before it was ever loaded', async () => {
    const trusted = createTrustedDocuments({ load: async () => Promise.reject(new Error('down')) });
    expect(await failure(trusted.apply({ documentId: id }, partner))).toBe('SERVICE_UNAVAILABLE');
  });
});
