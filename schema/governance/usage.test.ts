import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageAggregator, normalizeOperation } from '../../gateway/plugins/schemaUsage.js';
import { describeSchema, toPayloads } from '../../gateway/plugins/schemaUsageFlusher.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { SchemaUsageStore, type SchemaUsageStoreOptions } from '../../subgraphs/accounts/schemaUsageStore.js';
import { formatReport, runCheck } from './check.js';
import { compose } from './diff.js';
import { recordedOperations, usageEvidence } from './sources.js';

const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n';
const published = {
  books: `${link} enum Format { PAPER EBOOK AUDIO @deprecated(reason: "gone") }
    type Book @key(fields: "id") { id: ID!, title: String, subtitle: String, blurb: String @deprecated(reason: "use subtitle"), format: Format }
    type Query { book(id: ID!): Book, books(format: Format, first: Int): [Book!]! }`,
};
const HOUR = 3_600_000;
const DAY = 86_400_000;
const now = Date.UTC(2026, 0, 10, 12, 30);

function apiSchema() {
  const composed = compose(published);
  if (!composed.ok) throw new Error('fixture does not compose');
  return buildSchema(composed.apiSdl);
}

const ios = { name: 'reader-ios', version: '3.2', partnerKeyId: null };
const partner = { name: 'unknown', version: '', partnerKeyId: 'k_1' };

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function openStore(options: SchemaUsageStoreOptions = {}): Promise<{ store: SchemaUsageStore; storage: Storage }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'folio-usage-'));
  const storage = await openStorage({ dataDir: dir });
  cleanup.push(() => storage.close(), () => rmSync(dir, { recursive: true, force: true }));
  return { store: await SchemaUsageStore.open(storage.db('folio_accounts'), options), storage };
}

describe('gateway usage aggregation', () => {
  it('keeps only the normalised operation: literals blanked, no variables, enum values kept', () => {
    const text = normalizeOperation(parse('mutation { login(username: "ada", password: "hunter2 secret", ttl: 42, ratio: 1.5, remember: true, kind: FAST) { token } } # comment'));
    expect(text).not.toMatch(/ada|hunter2|42|1\.5|comment/);
    expect(text).toContain('username: ""');
    expect(text).toContain('kind: FAST');
    expect(text).toContain('remember: true');
  });

  it('counts per hour, signature and client; past the row bound still counts per coordinate', () => {
    const schema = apiSchema();
    const aggregator = new UsageAggregator({ maxRows: 2 });
    const withSubtitle = parse('query ($id: ID!) { book(id: $id) { title subtitle } }');
    for (let i = 0; i < 5; i += 1) aggregator.record(schema, withSubtitle, ios, now);
    aggregator.record(schema, withSubtitle, partner, now);
    // Same signature as a different literal: the text is normalised before hashing.
    const a = aggregator.describe(schema, parse('{ book(id: "1") { id } }'));
    const b = aggregator.describe(schema, parse('{ book(id: "2") { id } }'));
    expect(a.signature).toBe(b.signature);
    aggregator.record(schema, parse('{ book(id: "1") { id } }'), ios, now); // a third row: over the bound
    const drained = aggregator.drain();
    expect(drained.dropped).toBe(1);
    expect(drained.rows.map((r) => r.requests).sort()).toEqual([1, 5]);
    expect(drained.overflow.get(now - (now % HOUR))).toEqual(new Map([['Query.book', 1], ['Query.book.id', 1], ['Book.id', 1]]));

    const [payload, ...more] = toPayloads(drained, new Set(), describeSchema(schema));
    expect(more).toEqual([]);
    const subtitle = payload!.rows.filter((r) => r.coordinate === 'Book.subtitle');
    expect(subtitle.map((r) => [r.clientName, r.partnerKeyId, r.requests]).sort()).toEqual([['reader-ios', null, 5], ['unknown', 'k_1', 1]]);
    expect(payload!.rows.find((r) => r.coordinate === 'Book.id')).toMatchObject({ clientName: '(overflow)', requests: 1 });
    expect(payload!.operations).toHaveLength(1);
    expect(payload!.operations[0]).toMatchObject({ requests: 6, clients: ['reader-ios@3.2', 'unknown (partner key k_1)'] });
    expect(payload!.schema?.deprecated).toEqual([
      { coordinate: 'Book.blurb', reason: 'use subtitle' },
      { coordinate: 'Format.AUDIO', reason: 'gone' },
    ]);
    // The text goes once: a signature accounts has is sent without it.
    const again = toPayloads({ ...drained, overflow: new Map() }, new Set([payload!.operations[0]!.signature]), undefined);
    expect(again[0]!.operations[0]!.body).toBeNull();
    expect(again[0]!.schema).toBeUndefined();
  });
});

describe('accounts usage store', () => {
  it('adds flushes up, prunes past the retention, and folds clients past the hourly bound into (other)', async () => {
    const { store } = await openStore({ retentionDays: 30, maxRowsPerHour: 3 });
    const hour = now - (now % HOUR);
    const row = (coordinate: string, clientName: string, requests: number, at = hour) => ({ hour: at, coordinate, clientName, clientVersion: '1', partnerKeyId: null, requests });
    await store.write({ rows: [row('Book.title', 'old', 1, hour - 40 * DAY)], operations: [] }, now - 40 * DAY + HOUR);
    await store.write({ rows: [row('Book.title', 'a', 2), row('Book.title', 'b', 3)], operations: [] }, now);
    await store.write({ rows: [row('Book.title', 'a', 2), row('Book.title', 'c', 1), row('Book.title', 'd', 7)], operations: [] }, now);
    await store.prune(now);
    const totals = await store.totals(new Date(now - 30 * DAY), ['Book.title']);
    expect(totals.map((t) => [t.clientName, t.requests]).sort()).toEqual([['(other)', 7], ['a', 4], ['b', 3], ['c', 1]]);
    expect(await store.usage.countDocuments({})).toBe(4);
  });

  it('keeps each operation once with its clients, and a bounded number of operations', async () => {
    const { store } = await openStore({ maxOperations: 1 });
    const hour = now - (now % HOUR);
    const op = (signature: string, clients: string[], body: string | null) => ({ signature, name: 'Q', body, coordinates: ['Query.book'], clients, requests: 2, hour });
    await store.write({ rows: [], operations: [op('a'.repeat(32), ['x@1'], '{ book(id: "") { id } }')] }, now);
    await store.write({ rows: [], operations: [op('a'.repeat(32), ['y@2', 'x@1'], null), op('b'.repeat(32), ['z'], '{ b }')] }, now);
    const ops = await store.operationsSince(new Date(now - DAY));
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ _id: 'a'.repeat(32), body: '{ book(id: "") { id } }', requests: 4 });
    expect(ops[0]!.clients.sort()).toEqual(['x@1', 'y@2']);
  });
});

describe('recorded usage as check evidence', () => {
  it('a breaking change used by a recorded operation fails naming its clients; an unused one passes with "0 requests in N days"', async () => {
    const schema = apiSchema();
    const { store } = await openStore({ retentionDays: 30 });
    const aggregator = new UsageAggregator();
    const doc = parse('query Detail($id: ID!) { book(id: $id) { title subtitle } }');
    for (let i = 0; i < 5; i += 1) aggregator.record(schema, doc, ios, now);
    aggregator.record(schema, doc, partner, now);
    for (const payload of toPayloads(aggregator.drain(), new Set(), describeSchema(schema))) await store.write(payload, now);
    await store.write(toPayloads(aggregator.drain(), new Set(), undefined)[0] ?? { rows: [], operations: [] }, now);

    const since = new Date(now - 30 * DAY);
    const evidence = usageEvidence(await store.totals(since), 30, 30);
    const operations = recordedOperations(await store.operationsSince(since));
    expect(operations).toHaveLength(1);
    expect(operations[0]!.body).toBe('query Detail($id: ID!) {\n  book(id: $id) {\n    title\n    subtitle\n  }\n}');
    expect(evidence.requests('Book.subtitle')).toEqual({ requests: 6, clients: ['reader-ios@3.2', 'unknown (partner key k_1)'] });

    const dropBlurb = { books: published.books.replace(', blurb: String @deprecated(reason: "use subtitle")', '') };
    const unused = await runCheck({ published, proposed: dropBlurb, usage: evidence, operations });
    expect(unused.ok).toBe(true);
    expect(formatReport(unused)).toContain('safe to ship: 0 requests in 30 days');

    const dropSubtitle = { books: published.books.replace(', subtitle: String', '') };
    const used = await runCheck({ published, proposed: dropSubtitle, usage: evidence, operations });
    expect(used.ok).toBe(false);
    const report = formatReport(used);
    expect(report).toContain(`BLOCKS: breaks recorded ${operations[0]!.id} (reader-ios@3.2, unknown (partner key k_1))`);

    // Without the operation's text (too long to keep) its usage still blocks, with the count as evidence.
    const countsOnly = await runCheck({ published, proposed: dropSubtitle, usage: evidence });
    expect(countsOnly.ok).toBe(false);
    expect(formatReport(countsOnly)).toContain('in use, 6 requests in 30 days from reader-ios@3.2, unknown (partner key k_1)');
  });
});
