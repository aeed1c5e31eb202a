import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { ANONYMOUS } from '../../lib/identity.js';
import { createTrustedDocuments, type GraphQLBody } from './trustedDocuments.js';

const body = '{ books { id } }';
const id = createHash('sha256').update(body).digest('hex');
const partner = { ...ANONYMOUS, partnerId: 'p1' };
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

  it('reports the list being unavailable before it was ever loaded', async () => {
    const trusted = createTrustedDocuments({ load: async () => Promise.reject(new Error('down')) });
    expect(await failure(trusted.apply({ documentId: id }, partner))).toBe('SERVICE_UNAVAILABLE');
  });
});
