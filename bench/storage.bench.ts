/**
 * Storage benchmark: ops/s for inserts, point reads by `_id` and by an indexed field, a range
 * query on an indexed field, and `$inc` updates — on the embedded engine always, and on MongoDB
 * when MONGODB_URI is set. Writes bench/results/storage-<timestamp>.json and .md.
 *
 *   npm run bench:storage            (BENCH_DOCS=50000 to change the collection size)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage, type DocCollection, type Storage } from '../lib/storage/index.js';

const DOCS = Number(process.env.BENCH_DOCS ?? 20_000);
const READS = Number(process.env.BENCH_READS ?? 50_000);
const CONCURRENCY = 64;
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

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-'));
  try {
    const embedded = await openStorage({ dataDir });
    rows.push(...(await run('embedded', embedded)));
    await embedded.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (process.env.MONGODB_URI) {
    const mongo = await openStorage({ dataDir, mongodbUri: process.env.MONGODB_URI });
    rows.push(...(await run('mongodb', mongo)));
    await mongo.close();
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const meta = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, docs: DOCS, tmpdir: os.tmpdir() };
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `storage-${stamp}.json`), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
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
  ].join('\n');
  fs.writeFileSync(path.join(resultsDir, `storage-${stamp}.md`), md);
  console.log(`\nwrote bench/results/storage-${stamp}.{json,md}`);
}

await main();
