/**
 * Storage benchmark: ops/s for inserts, point reads by `_id` and by an indexed field, a range
 * query on an indexed field, and `$inc` updates — on the embedded engine always, and on MongoDB
 * when MONGODB_URI is set. Then (embedded) keyset pages shaped like catalog's `books(first: 20,
 * after:)` at growing collection sizes, walking the (status, sortKey) index vs the old
 * scan-and-sort path in the same run. Writes bench/results/storage-<timestamp>.json and .md.
 *
 *   npm run bench:storage            (BENCH_DOCS=50000 to change the collection size)
 *   BENCH_PART=pages npm run bench:storage     (only the pages part)
 *   BENCH_PAGE_SIZES=1000,100000,1000000       (collection sizes for the pages part; the default)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage, type DocCollection, type Document, type Storage } from '../lib/storage/index.js';
import { plannerOptions } from '../lib/storage/embedded/index.js';
import { readableFilter } from '../subgraphs/catalog/licensing.js';
import { percentile, round } from './support.js';

const DOCS = Number(process.env.BENCH_DOCS ?? 20_000);
const READS = Number(process.env.BENCH_READS ?? 50_000);
const CONCURRENCY = 64;
const PART = process.env.BENCH_PART ?? 'all';
const PAGE_SIZES = (process.env.BENCH_PAGE_SIZES ?? '1000,100000,1000000').split(',').map(Number).filter((n) => n > 0);
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

interface Book {
  _id: number;
  isbn: string;
  shelf: string;
  pages: number;
  title: string;
  addedAt: Date;
  reads: number;
}

interface Row {
  backend: string;
  op: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
}

const book = (i: number): Book => ({
  _id: i,
  isbn: `978-${String(i).padStart(9, '0')}`,
  shelf: `shelf-${i % 500}`,
  pages: i % 1000,
  title: `Book number ${i} with a moderately long title`,
  addedAt: new Date(1_700_000_000_000 + i * 1000),
  reads: 0,
});

/** Runs `count` calls of fn with `concurrency` in flight; returns ops/s. */
async function measure(count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<{ seconds: number; opsPerSec: number }> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, opsPerSec: Math.round(count / seconds) };
}

const rand = (n: number): number => Math.floor(Math.random() * n);

async function run(backend: string, storage: Storage): Promise<Row[]> {
  const rows: Row[] = [];
  const record = async (op: string, count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> => {
    const r = await measure(count, concurrency, fn);
    rows.push({ backend, op, ops: count, ...r });
    console.log(`${backend.padEnd(9)} ${op.padEnd(44)} ${String(r.opsPerSec).padStart(9)} ops/s`);
  };
  const db = storage.db(`folio_bench_${process.pid}`);
  const c: DocCollection<Book> = db.collection<Book>('books');
  await c.createIndex({ isbn: 1 }, { unique: true });
  await c.createIndex({ shelf: 1, pages: 1 });
  await c.createIndex({ addedAt: 1 });

  const seqInserts = Math.min(2000, DOCS);
  await record(`insertOne, sequential (1 in flight)`, seqInserts, 1, (i) => c.insertOne(book(i)));
  await record(`insertOne, ${CONCURRENCY} in flight (group commit)`, DOCS - seqInserts, CONCURRENCY, (i) => c.insertOne(book(seqInserts + i)));
  await record(`findOne by _id`, READS, 1, () => c.findOne({ _id: rand(DOCS) }));
  await record(`findOne by unique indexed isbn`, READS, 1, () => c.findOne({ isbn: `978-${String(rand(DOCS)).padStart(9, '0')}` }));
  await record(`find by compound index (shelf, pages)`, READS, 1, () => c.find({ shelf: `shelf-${rand(500)}`, pages: { $gte: 0 } }).limit(10).toArray());
  await record(`range on indexed date, 20 docs`, READS / 5, 1, (i) => {
    const from = new Date(1_700_000_000_000 + rand(DOCS - 20) * 1000);
    void i;
    return c.find({ addedAt: { $gte: from, $lt: new Date(from.getTime() + 20_000) } }).toArray();
  });
  await record(`updateOne $inc by _id, sequential`, 1000, 1, () => c.updateOne({ _id: rand(DOCS) }, { $inc: { reads: 1 } }));
  await record(`updateOne $inc by _id, ${CONCURRENCY} in flight`, 20_000, CONCURRENCY, () => c.updateOne({ _id: rand(DOCS) }, { $inc: { reads: 1 } }));
  return rows;
}

interface PageRow {
  docs: number;
  path: 'index walk' | 'scan + sort';
  queries: number;
  p50Ms: number;
  p99Ms: number;
  /** Documents tested per page (the engine's docsExamined counter). */
  examinedPerPage: number;
  loadSeconds: number;
  rssMb: number;
}

/** A catalog book as listBooks sees it: small, so a million fit. */
const pageBook = (i: number): Document => ({
  _id: `b${i}`,
  status: i % 10 === 9 ? 'DRAFT' : 'PUBLISHED',
  // A scrambled but unique title order (as catalog's `title\0id` sortKey is unique).
  sortKey: `t${String((i * 7_919_993) % 9_999_991).padStart(7, '0')}\u0000b${i}`,
  title: `T${i}`,
  license: null,
});

/**
 * `books(first: 20, after:)` at each size: the filter listBooks builds for an anonymous reader
 * (PUBLISHED + license window + territory) and `sortKey > after`, sorted by sortKey, limit 21.
 */
async function pages(): Promise<PageRow[]> {
  const out: PageRow[] = [];
  const { engineOf } = await import('../lib/storage/embedded/index.js');
  for (const n of PAGE_SIZES) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-pages-'));
    const storage = await openStorage({ dataDir });
    try {
      const db = storage.db('folio_pages');
      const books = db.collection<Document>('books');
      await books.createIndex({ sortKey: 1 }, { name: 'books_order' });
      await books.createIndex({ status: 1, sortKey: 1 }, { name: 'books_status_order' });
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i += 10_000) await books.insertMany(Array.from({ length: Math.min(10_000, n - i) }, (_, j) => pageBook(i + j)));
      const loadSeconds = round(Number(process.hrtime.bigint() - t0) / 1e9);
      const visible = readableFilter({ userId: null, partnerId: null, roles: [], territory: null }) as Document;
      const keys = Array.from({ length: 500 }, () => pageBook(rand(n)).sortKey as string);
      const state = engineOf(db)!.coll('books');
      const measurePages = async (label: PageRow['path'], queries: number): Promise<void> => {
        plannerOptions.indexedSort = label === 'index walk';
        const ms: number[] = [];
        const examined0 = state.docsExamined;
        for (let q = 0; q < queries; q++) {
          const after = q % 10 === 0 ? null : keys[q % keys.length]!;
          const filter = after === null ? visible : { $and: [...(visible.$and as Document[]), { sortKey: { $gt: after } }] };
          const start = process.hrtime.bigint();
          await books.find(filter).sort({ sortKey: 1 }).limit(21).toArray();
          ms.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
        ms.sort((a, b) => a - b);
        const row: PageRow = {
          docs: n,
          path: label,
          queries,
          p50Ms: round(percentile(ms, 50)),
          p99Ms: round(percentile(ms, 99)),
          examinedPerPage: Math.round((state.docsExamined - examined0) / queries),
          loadSeconds,
          rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
        };
        out.push(row);
        console.log(`pages    ${String(n).padStart(8)} docs  ${label.padEnd(12)} p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  examined/page ${row.examinedPerPage}  (${queries} queries)`);
      };
      await measurePages('index walk', 400);
      // The old path examines and sorts every PUBLISHED book: few queries at the large sizes.
      await measurePages('scan + sort', n >= 1_000_000 ? 5 : n >= 100_000 ? 20 : 200);
    } finally {
      plannerOptions.indexedSort = true;
      await storage.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-'));
  try {
    if (PART !== 'pages') {
      const embedded = await openStorage({ dataDir });
      rows.push(...(await run('embedded', embedded)));
      await embedded.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const pageRows = PART === 'all' || PART === 'pages' ? await pages() : [];
  if (process.env.MONGODB_URI && PART !== 'pages') {
    const mongo = await openStorage({ dataDir, mongodbUri: process.env.MONGODB_URI });
    rows.push(...(await run('mongodb', mongo)));
    await mongo.close();
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const meta = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l)), docs: DOCS, tmpdir: os.tmpdir() };
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `storage-${stamp}.json`), `${JSON.stringify({ ...meta, rows, pages: pageRows }, null, 2)}\n`);
  const md = [
    `# Storage benchmark ${meta.date}`,
    '',
    `Node ${meta.node}, ${meta.cpu}, ${DOCS} documents, 3 secondary indexes, data dir under ${meta.tmpdir}.`,
    'Writes are acknowledged only after fdatasync (embedded) / the default write concern (MongoDB).',
    '',
    '| backend | operation | ops | ops/s |',
    '| --- | --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.backend} | ${r.op} | ${r.ops} | ${r.opsPerSec.toLocaleString('en-US')} |`),
    '',
    ...(pageRows.length === 0
      ? []
      : [
          '## Keyset pages: `books(first: 20, after:)` store query',
          '',
          `Load average at the end ${meta.loadAverage.join(' / ')} on ${meta.cores} cores (shared machine): compare the two paths within a size, not absolute numbers.`,
          'Filter: PUBLISHED + license window + territory (listBooks for an anonymous reader) and `sortKey > after`; sort sortKey; limit 21. 90 % of books published.',
          '',
          '| documents | path | queries | p50 ms | p99 ms | examined / page | load s | RSS MB |',
          '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...pageRows.map((r) => `| ${r.docs.toLocaleString('en-US')} | ${r.path} | ${r.queries} | ${r.p50Ms} | ${r.p99Ms} | ${r.examinedPerPage.toLocaleString('en-US')} | ${r.loadSeconds} | ${r.rssMb} |`),
          '',
        ]),
  ].join('\n');
  fs.writeFileSync(path.join(resultsDir, `storage-${stamp}.md`), md);
  console.log(`\nwrote bench/results/storage-${stamp}.{json,md}`);
}

await main();
