/**
 * Issue 13 "Usage", through the gateway: traffic from an app (client headers), a signed-in reader
 * and a partner's trusted document is recorded per coordinate and client in accounts' store; an
 * admin reads it back through the API; readers, anonymous callers and partners cannot; nothing
 * private (literal values, variables, user ids) is kept; and `schema:check`'s loader turns the
 * recorded operations into a failing check naming the client, or "0 requests in 30 days".
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseName } from '../lib/service.js';
import { formatReport, runCheck } from '../schema/governance/check.js';
import { readProposed, readPublished, SCHEMA_DIR } from '../schema/governance/files.js';
import { loadRecordedUsage } from '../schema/governance/sources.js';
import { openStorage } from '../lib/storage/index.js';
import type { SchemaUsageDoc } from '../subgraphs/accounts/schemaUsageStore.js';
import { loginAdmin, registerUser, type TestUser } from './kit/accounts.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, tempDataDir, type TestPlatform } from './kit/platform.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const APP = { 'apollographql-client-name': 'reader-web', 'apollographql-client-version': '2.1' };
const APP_QUERY = 'query Shelf($q: String) { books(first: 3, filter: { query: $q }) { edges { node { id title isbn } } } }';
const LITERAL_QUERY = '{ user(id: "literal-secret-4711") { username } }';
const PARTNER_DOC = 'query PartnerTitles { books(first: 2) { edges { node { title } } } }';
const USAGE = `query Usage($c: String!, $first: Int, $after: String) {
  schemaUsage(coordinate: $c, first: $first, after: $after) {
    totalRequests
    pageInfo { hasNextPage endCursor }
    edges { node { hour requests client { name version partnerKeyId } } }
  }
}`;

describe('schema usage: recorded by the gateway, read by admins only', () => {
  let platform: TestPlatform;
  let admin: string;
  let reader: TestUser;
  let partner: { key: string; id: string };
  const dataDir = tempDataDir();

  beforeAll(async () => {
    // The served supergraph deprecates Book.isbn (only the gateway reads it; execution is unchanged).
    const supergraph = path.join(dataDir, 'supergraph.graphql');
    const sdl = readFileSync(path.join(SCHEMA_DIR, 'supergraph.graphql'), 'utf8');
    writeFileSync(supergraph, sdl.replace('  isbn: String @join__field(graph: CATALOG)', '  isbn: String @join__field(graph: CATALOG) @deprecated(reason: "use identifiers")'));
    platform = await startTestPlatform({
      dataDir,
      keepData: true,
      env: { FOLIO_GATEWAY_SCHEMA_USAGE_FLUSH_SECONDS: '1', FOLIO_SUPERGRAPH_PATH: supergraph, FOLIO_DEMO_DATA: 'true' },
      parts: ['accounts', 'catalog', 'ugc', 'gateway'],
    });
    admin = await loginAdmin(platform.gateway);
    reader = await registerUser(platform.gateway);
    const { createApiKey } = await mustQuery(platform.gateway, 'mutation { createApiKey(input: { name: "acme", scopes: ["catalog:read"] }) { key apiKey { id } } }', {}, { token: admin });
    partner = { key: createApiKey.key, id: createApiKey.apiKey.id };
    await mustQuery(platform.gateway, 'mutation($b: String!) { registerTrustedDocument(input: { body: $b, clientName: "acme-feed" }) { id } }', { b: PARTNER_DOC }, { token: admin });

    for (let i = 0; i < 3; i += 1) await mustQuery(platform.gateway, APP_QUERY, { q: `private-search-${i}` }, { token: reader.token, headers: APP });
    await graphql(platform.gateway, LITERAL_QUERY, {}, { token: reader.token, headers: APP });
    await eventually(async () => {
      const r = await graphql(platform.gateway, undefined, {}, { apiKey: partner.key, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(PARTNER_DOC) } } });
      return !r.errors?.length && r.data?.books;
    });
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) await platform?.stop();
    stopped = true;
  };
  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows an admin requests per hour and client for a coordinate, in bounded pages', async () => {
    const usage = await eventually(async () => {
      const { schemaUsage } = await mustQuery(platform.gateway, USAGE, { c: 'Book.title' }, { token: admin });
      const clients = schemaUsage.edges.map((e: any) => e.node.client);
      return clients.some((c: any) => c.partnerKeyId === partner.id) && clients.some((c: any) => c.name === 'reader-web') ? schemaUsage : null;
    });
    const app = usage.edges.find((e: any) => e.node.client.name === 'reader-web').node;
    expect(app).toMatchObject({ requests: 3, client: { name: 'reader-web', version: '2.1', partnerKeyId: null } });
    expect(new Date(app.hour).getUTCMinutes()).toBe(0);
    expect(usage.totalRequests).toBeGreaterThanOrEqual(4);

    const first = await mustQuery(platform.gateway, USAGE, { c: 'Book.title', first: 1 }, { token: admin });
    expect(first.schemaUsage.edges).toHaveLength(1);
    expect(first.schemaUsage.pageInfo.hasNextPage).toBe(true);
    const next = await mustQuery(platform.gateway, USAGE, { c: 'Book.title', first: 1, after: first.schemaUsage.pageInfo.endCursor }, { token: admin });
    expect(next.schemaUsage.edges[0].node).not.toEqual(first.schemaUsage.edges[0].node);
    expect(errorCodes(await graphql(platform.gateway, USAGE, { c: 'Book.title', first: 101 }, { token: admin }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await graphql(platform.gateway, USAGE, { c: 'not a coordinate' }, { token: admin }))).toEqual(['BAD_USER_INPUT']);
  });

  it('lists the most and least used fields with clients, and deprecated fields still in use with who uses them', async () => {
    const { most, least, deprecated } = await eventually(async () => {
      const data = await mustQuery(
        platform.gateway,
        `{ most: schemaFieldUsage(order: MOST_USED, first: 100) { totalCount edges { node { coordinate requests clients { client { name partnerKeyId } requests } } } }
           least: schemaFieldUsage(order: LEAST_USED, first: 3) { edges { node { coordinate requests } } }
           deprecated: deprecatedSchemaUsage { edges { node { coordinate requests deprecationReason clients { client { name version } requests } } } } }`,
        {},
        { token: admin },
      );
      return data.deprecated.edges.length > 0 ? data : null;
    });
    const books = most.edges.find((e: any) => e.node.coordinate === 'Query.books').node;
    expect(books.requests).toBeGreaterThanOrEqual(4);
    expect(books.clients.map((c: any) => c.client.partnerKeyId ?? c.client.name)).toEqual(expect.arrayContaining(['reader-web', partner.id]));
    expect(most.totalCount).toBeGreaterThan(100); // every field of the served schema, used or not
    expect(least.edges.map((e: any) => e.node.requests)).toEqual([0, 0, 0]);
    expect(deprecated.edges.map((e: any) => e.node)).toEqual([
      { coordinate: 'Book.isbn', requests: 3, deprecationReason: 'use identifiers', clients: [{ client: { name: 'reader-web', version: '2.1' }, requests: 3 }] },
    ]);
  });

  it('refuses readers (FORBIDDEN), anonymous callers (UNAUTHENTICATED) and partners', async () => {
    expect(errorCodes(await graphql(platform.gateway, USAGE, { c: 'Book.title' }, { token: reader.token }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graphql(platform.gateway, USAGE, { c: 'Book.title' }))).toEqual(['UNAUTHENTICATED']);
    const most = '{ schemaFieldUsage { edges { node { coordinate } } } }';
    expect(errorCodes(await graphql(platform.gateway, most, {}, { token: reader.token }))).toEqual(['FORBIDDEN']);
    // A partner runs only trusted documents, and none may hold these fields (no key has a scope for them).
    const asPartner = await graphql(platform.gateway, most, {}, { apiKey: partner.key });
    expect(errorCodes(asPartner)).toEqual(['FORBIDDEN']);
    expect(asPartner.data?.schemaFieldUsage ?? null).toBeNull();
    const register = await graphql(platform.gateway, 'mutation($b: String!) { registerTrustedDocument(input: { body: $b }) { id } }', { b: `query Spy ${most}` }, { token: admin });
    expect(errorCodes(register)).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps no literal values, variables or user ids, only normalised operations', async () => {
    const accounts = platform.storage.db(databaseName('accounts'));
    const ops = await eventually(async () => {
      const docs = await accounts.collection<{ _id: string; body: string | null; clients: string[] }>('schema_operations').find({}).toArray();
      return docs.some((d) => d.body?.includes('user(id: "")')) ? docs : null;
    });
    const stored = JSON.stringify([ops, await accounts.collection('schema_usage').find({}).toArray()]);
    expect(stored).not.toContain('literal-secret-4711');
    expect(stored).not.toContain('private-search');
    expect(stored).not.toContain(reader.id);
    expect(ops.find((d) => d.body?.includes('PartnerTitles'))?.clients).toEqual([`unknown (partner key ${partner.id})`]);
  });

  it('feeds schema:check: a recorded operation blocks a breaking change naming its client; an unused field passes with evidence', async () => {
    // Wait until the gateway's flush of the last request has landed, then stop (the embedded store has one owner).
    await eventually(async () => (await mustQuery(platform.gateway, USAGE, { c: 'Query.user' }, { token: admin })).schemaUsage.totalRequests >= 1 || null);
    await stop();
    const env = { ...process.env, FOLIO_DATA_DIR: dataDir, MONGODB_URI: '' };
    const published = readPublished(SCHEMA_DIR);
    const proposed = readProposed(SCHEMA_DIR);
    const without = (field: string) => ({ ...proposed, catalog: proposed.catalog!.replace(new RegExp(`\\n\\s*("""(?:(?!""")[\\s\\S])*"""\\n\\s*|"[^"\\n]*"\\n\\s*)?${field}: String\\n`), '\n') });

    // Recording began minutes ago: "0 requests" then proves nothing for a 30-day window.
    const fresh = await loadRecordedUsage(30, env);
    const early = await runCheck({ published, proposed: without('coverUrl'), usage: fresh.evidence, operations: fresh.operations });
    expect(early.ok).toBe(false);
    expect(formatReport(early)).toMatch(/→ BLOCKS: 0 requests, but usage reaches back only 0\.\d of the 30 days asked/);
    // As if the gateway had been recording for a month: an hour 29 days ago holds another field's requests.
    const hour = Date.now() - 29 * 86_400_000;
    const storage = await openStorage({ dataDir });
    await storage
      .db(databaseName('accounts'))
      .collection<SchemaUsageDoc>('schema_usage')
      .insertOne({ _id: `${hour}|Query.books|old|1|`, hour: new Date(hour - (hour % 3_600_000)), coordinate: 'Query.books', clientName: 'old', clientVersion: '1', partnerKeyId: null, requests: 3 });
    await storage.close();
    const recorded = await loadRecordedUsage(30, env);
    expect(recorded.operations.map((o) => o.clients)).toEqual(expect.arrayContaining([['reader-web@2.1']]));

    const dropIsbn = await runCheck({ published, proposed: without('isbn'), usage: recorded.evidence, operations: recorded.operations });
    expect(dropIsbn.ok).toBe(false);
    expect(formatReport(dropIsbn)).toMatch(/Book\.isbn[^\n]*\n\s+→ BLOCKS: breaks recorded [0-9a-f]{32} \(reader-web@2\.1\)/);

    const dropCover = await runCheck({ published, proposed: without('coverUrl'), usage: recorded.evidence, operations: recorded.operations });
    expect(formatReport(dropCover)).toMatch(/safe to ship: 0 requests in the 29\.\d days recorded \(30 asked\)/);
    expect(dropCover.ok).toBe(true);
  });
});
