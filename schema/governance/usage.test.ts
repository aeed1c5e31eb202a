import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { UsageAggregator } from '../../gateway/plugins/schemaUsage.js';
import { openStorage } from '../../lib/storage/index.js';
import { SchemaUsageStore } from '../../subgraphs/accounts/schemaUsageStore.js';
import { formatReport, runCheck } from './check.js';
import { compose } from './diff.js';
import { usageEvidence } from './sources.js';

const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n';
const published = {
  books: `${link} type Book @key(fields: "id") { id: ID!, title: String, subtitle: String, blurb: String }
    type Query { book(id: ID!): Book }`,
};

describe('recorded usage as check evidence', () => {
  it('aggregates per hour and client, persists bounded buckets, and decides unused vs used fields', async () => {
    const composed = compose(published);
    if (!composed.ok) throw new Error('fixture does not compose');
    const schema = buildSchema(composed.apiSdl);
    const aggregator = new UsageAggregator({ maxRows: 2 });
    const now = Date.UTC(2026, 0, 10, 12, 30);
    const doc = parse('query ($id: ID!) { book(id: $id) { title subtitle } }');
    const ios = { name: 'reader-ios', version: '3.2', partnerKeyId: null };
    for (let i = 0; i < 5; i += 1) aggregator.record(schema, doc, ios, now);
    aggregator.record(schema, doc, { name: 'partner', version: '1', partnerKeyId: 'k_1' }, now);
    aggregator.record(schema, parse('{ book(id: "1") { id } }'), ios, now); // third row: over the cap
    expect(aggregator.dropped).toBe(1);
    const rows = aggregator.drain();
    expect(rows.map((r) => r.requests).sort()).toEqual([1, 5]);
    expect(rows[0]?.coordinates).toEqual(expect.arrayContaining(['Query.book', 'Query.book.id', 'Book.title', 'Book.subtitle']));
    expect(JSON.stringify(rows)).not.toContain('$id');

    const storage = await openStorage({ dataDir: mkdtempSync(path.join(tmpdir(), 'folio-usage-')) });
    try {
      const store = await SchemaUsageStore.open(storage.db('folio_accounts'), 30);
      await store.write([{ ...rows[0]!, hour: now - 40 * 86_400_000 }], now); // beyond retention
      await store.write(rows, now);
      await store.write(rows, now); // a second flush adds up
      expect(await store.requests('Book.subtitle', new Date(now - 30 * 86_400_000))).toEqual({
        requests: 12,
        clients: ['partner@1 (partner key k_1)', 'reader-ios@3.2'],
      });
      const evidence = usageEvidence(await store.since(new Date(now - 30 * 86_400_000)), 30);

      const dropBlurb = { books: published.books.replace(', blurb: String', '') };
      const unused = await runCheck({ published, proposed: dropBlurb, usage: evidence });
      expect(unused.ok).toBe(true);
      expect(formatReport(unused)).toContain('safe to ship: 0 requests in 30 days');

      const dropSubtitle = { books: published.books.replace(', subtitle: String', '') };
      const used = await runCheck({ published, proposed: dropSubtitle, usage: evidence });
      expect(used.ok).toBe(false);
      expect(formatReport(used)).toContain('12 requests in 30 days from partner@1 (partner key k_1), reader-ios@3.2');
    } finally {
      await storage.close();
    }
  });
});
