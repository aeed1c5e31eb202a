/**
 * Vector bench: builds an embedded index of N clustered 384-dim vectors (default 1,000,000) with
 * sparse vectors and payloads, then reports build time, on-disk size, reopen time, recall@10 vs
 * exact search, p50/p99 latency of dense / filtered dense / hybrid queries (one client), an
 * f16-vs-f32 comparison on a subset, and per-user private index cold/warm latency at 10k notes.
 *
 *   npm run bench:vectors -- [--points N] [--queries Q] [--out DIR]
 *
 * The data is embedding-like rather than uniform noise: points scatter around ~N/1000 cluster
 * centres with cluster-specific spread, queries are perturbed data points, and sparse terms are
 * Zipf-distributed with per-cluster topic terms so dense and sparse rankings correlate.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DirectoryObjectStore } from '../lib/objectStore.js';
import { EmbeddedVectorStore, exactCosineTopK } from '../lib/vectors/index.js';
import type { SearchRequest, SparseVector, VectorPoint } from '../lib/vectors/index.js';
import { LocalHashEmbedder } from '../subgraphs/search/core/embedder.js';
import { PrivateIndexService } from '../subgraphs/search/core/privateIndex.js';
import { seededRandom as rng } from '../lib/vectors/testing.js';

export interface VectorsBenchOptions {
  readonly points: number;
  readonly queries: number;
  readonly outDir: string;
  readonly privateNotes: number;
  readonly log?: (line: string) => void;
}

const DIM = 384;
const K = 10;
const BATCH = 10_000;
const VOCAB = 50_000;

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

interface Dataset {
  readonly vectors: Float32Array;
  readonly cluster: Uint32Array;
  readonly clusters: number;
}

function generate(points: number, random: () => number): Dataset {
  const clusters = Math.max(8, Math.round(points / 1000));
  const centres = new Float32Array(clusters * DIM);
  // A shared anisotropic component (real embeddings are not isotropic): every centre leans on it.
  const common = normalise(Float32Array.from({ length: DIM }, () => random() * 2 - 1));
  for (let c = 0; c < clusters; c++) {
    const centre = centres.subarray(c * DIM, (c + 1) * DIM);
    for (let d = 0; d < DIM; d++) centre[d] = random() * 2 - 1 + common[d]! * 4;
    normalise(centre);
  }
  const spread = Float32Array.from({ length: clusters }, () => 0.03 + random() * 0.05);
  const vectors = new Float32Array(points * DIM);
  const cluster = new Uint32Array(points);
  for (let i = 0; i < points; i++) {
    const c = Math.floor(random() * clusters);
    cluster[i] = c;
    const row = vectors.subarray(i * DIM, (i + 1) * DIM);
    for (let d = 0; d < DIM; d++) row[d] = centres[c * DIM + d]! + (random() * 2 - 1) * spread[c]!;
    normalise(row);
  }
  return { vectors, cluster, clusters };
}

function zipfTerm(random: () => number): number {
  // Inverse-CDF of a ~1/rank distribution over the vocabulary.
  return Math.floor(Math.exp(random() * Math.log(VOCAB))) - 1;
}

function sparseFor(cluster: number, random: () => number, terms: number): SparseVector {
  const map = new Map<number, number>();
  for (let t = 0; t < terms; t++) {
    const term = t < 3 ? VOCAB + ((cluster * 7 + t) % (VOCAB * 4)) : zipfTerm(random);
    map.set(term, Math.min(2.2, (map.get(term) ?? 0) + 0.9 + random() * 0.3));
  }
  const entries = [...map].sort((a, b) => a[0] - b[0]);
  return { indices: entries.map((e) => e[0]), values: entries.map((e) => e[1]) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function latencyStats(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), mean: round(samples.reduce((a, b) => a + b, 0) / samples.length) };
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function timeQueries(store: EmbeddedVectorStore, requests: SearchRequest[]): Promise<{ latency: ReturnType<typeof latencyStats>; ids: string[][] }> {
  for (const request of requests.slice(0, 20)) await store.search('bench', request); // warm-up
  const samples: number[] = [];
  const ids: string[][] = [];
  for (const request of requests) {
    const started = performance.now();
    const hits = await store.search('bench', request);
    samples.push(performance.now() - started);
    ids.push(hits.map((h) => h.id));
  }
  return { latency: latencyStats(samples), ids };
}

function recallAt(found: string[][], truth: number[][]): number {
  let hit = 0;
  found.forEach((ids, q) => {
    const expected = new Set(truth[q]!.map((row) => `p${row}`));
    hit += ids.filter((id) => expected.has(id)).length;
  });
  return Math.round((hit / (truth.length * K)) * 10_000) / 10_000;
}

async function quantizationComparison(data: Dataset, queries: Float32Array, queryCount: number, dir: string, points: number) {
  const subset = data.vectors.subarray(0, points * DIM);
  const truth = exactCosineTopK(subset, queries, DIM, K);
  const result: Record<string, unknown> = { points };
  for (const quantization of ['f16', 'f32'] as const) {
    const store = await EmbeddedVectorStore.open({ directory: path.join(dir, quantization), quantization });
    await store.ensureCollection('bench', { dimension: DIM, embedderId: 'bench:384' });
    const started = performance.now();
    for (let s = 0; s < points; s += BATCH) {
      const n = Math.min(BATCH, points - s);
      await store.upsert('bench', Array.from({ length: n }, (_, j) => ({ id: `p${s + j}`, dense: subset.subarray((s + j) * DIM, (s + j + 1) * DIM), sparse: { indices: [], values: [] }, payload: {} })));
    }
    const buildMs = performance.now() - started;
    const requests = Array.from({ length: queryCount }, (_, q) => ({ mode: 'dense' as const, dense: queries.subarray(q * DIM, (q + 1) * DIM), limit: K }));
    const { latency, ids } = await timeQueries(store, requests);
    await store.flush();
    result[quantization] = { buildSeconds: Math.round(buildMs / 100) / 10, recallAt10: recallAt(ids, truth), dense: latency, diskBytes: await dirSize(path.join(dir, quantization)) };
    await store.close();
  }
  return result;
}

async function privateIndexBench(notes: number, dir: string) {
  const embedder = new LocalHashEmbedder();
  const store = new DirectoryObjectStore(dir);
  const random = rng(7);
  const words = 'reading whale sea captain 黑暗 森林 文明 宇宙 memory garden letter winter river 小说 历史 城市 love war time light'.split(' ');
  const items = Array.from({ length: notes }, (_, i) => ({
    id: `note-${i}`,
    kind: (i % 3 === 0 ? 'highlight' : 'note') as 'note' | 'highlight',
    bookId: `book-${i % 40}`,
    text: Array.from({ length: 12 + Math.floor(random() * 20) }, () => words[Math.floor(random() * words.length)]).join(' '),
  }));
  const writer = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
  const started = performance.now();
  for (let i = 0; i < items.length; i += 1000) await writer.upsert('bench-user', items.slice(i, i + 1000));
  const buildMs = performance.now() - started;
  const objectBytes = (await store.get(PrivateIndexService.objectKey('bench-user')))!.length;

  const cold: number[] = [];
  for (let round = 0; round < 15; round++) {
    const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
    const t = performance.now();
    await service.search('bench-user', 'whale captain sea 黑暗森林', { limit: 10 });
    cold.push(performance.now() - t);
  }
  const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
  await service.search('bench-user', 'warm up');
  const warm: number[] = [];
  const filtered: number[] = [];
  for (let q = 0; q < 200; q++) {
    const query = `${words[q % words.length]} ${words[(q * 7) % words.length]} ${words[(q * 13) % words.length]}`;
    let t = performance.now();
    await service.search('bench-user', query, { limit: 10 });
    warm.push(performance.now() - t);
    t = performance.now();
    await service.search('bench-user', query, { limit: 10, bookId: `book-${q % 40}` });
    filtered.push(performance.now() - t);
  }
  return { notes, objectBytes, buildSeconds: Math.round(buildMs / 100) / 10, coldMs: latencyStats(cold), warmHybridMs: latencyStats(warm), warmFilteredMs: latencyStats(filtered) };
}

export async function runVectorsBench(options: VectorsBenchOptions): Promise<{ json: string; md: string; result: Record<string, unknown> }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { points, queries: queryCount } = options;
  const work = await mkdtemp(path.join(tmpdir(), 'folio-vectors-bench-'));
  try {
    const random = rng(2024);
    let t = performance.now();
    const data = generate(points, random);
    log(`generated ${points} vectors in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const queries = new Float32Array(queryCount * DIM);
    const sourceOf: number[] = [];
    for (let q = 0; q < queryCount; q++) {
      const source = Math.floor(random() * points);
      sourceOf.push(source);
      const row = queries.subarray(q * DIM, (q + 1) * DIM);
      for (let d = 0; d < DIM; d++) row[d] = data.vectors[source * DIM + d]! + (random() * 2 - 1) * 0.02;
      normalise(row);
    }

    const store = await EmbeddedVectorStore.open({ directory: path.join(work, 'main') });
    await store.ensureCollection('bench', { dimension: DIM, embedderId: 'bench:384', payloadIndexes: ['bookId'] });
    const books = Math.max(10, Math.round(points / 1000));
    const sparseRandom = rng(99);
    t = performance.now();
    for (let s = 0; s < points; s += BATCH) {
      const n = Math.min(BATCH, points - s);
      const batch: VectorPoint[] = Array.from({ length: n }, (_, j) => {
        const i = s + j;
        return { id: `p${i}`, dense: data.vectors.subarray(i * DIM, (i + 1) * DIM), sparse: sparseFor(data.cluster[i]!, sparseRandom, 12), payload: { bookId: `b${i % books}`, chapterId: `c${i % 37}` } };
      });
      await store.upsert('bench', batch);
      if ((s / BATCH) % 10 === 0) log(`  upserted ${s + n} / ${points} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    }
    const buildSeconds = (performance.now() - t) / 1000;
    log(`built in ${buildSeconds.toFixed(1)} s`);
    t = performance.now();
    await store.flush();
    const saveSeconds = (performance.now() - t) / 1000;
    const diskBytes = await dirSize(path.join(work, 'main'));

    t = performance.now();
    const truth = exactCosineTopK(data.vectors, queries, DIM, K);
    const truthSeconds = (performance.now() - t) / 1000;

    const dense = Array.from({ length: queryCount }, (_, q) => ({ mode: 'dense' as const, dense: queries.subarray(q * DIM, (q + 1) * DIM), limit: K }));
    const denseRun = await timeQueries(store, dense);
    const hybrid = dense.map((request, q) => {
      const terms = sparseFor(data.cluster[sourceOf[q]!]!, rng(q), 4).indices;
      return { ...request, mode: 'hybrid' as const, sparse: { indices: terms, values: terms.map(() => 1) } };
    });
    const hybridRun = await timeQueries(store, hybrid);
    const filtered = dense.map((request, q) => ({ ...request, filter: { must: [{ key: 'bookId', match: `b${q % books}` }] } }));
    const filteredRun = await timeQueries(store, filtered);
    log(`dense recall@10 ${recallAt(denseRun.ids, truth)}, p99 ${denseRun.latency.p99} ms; hybrid p99 ${hybridRun.latency.p99} ms`);
    await store.close();

    t = performance.now();
    const reopened = await EmbeddedVectorStore.open({ directory: path.join(work, 'main') });
    await reopened.info('bench');
    const reopenSeconds = (performance.now() - t) / 1000;
    await reopened.close();

    const comparisonPoints = Math.min(points, 50_000);
    log(`f16 vs f32 on ${comparisonPoints} points…`);
    const quantization = await quantizationComparison(data, queries, queryCount, path.join(work, 'quant'), comparisonPoints);
    log(`private index with ${options.privateNotes} notes…`);
    const privateIndex = await privateIndexBench(options.privateNotes, path.join(work, 'objects'));

    const result = {
      bench: 'vectors',
      at: new Date().toISOString(),
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      config: { points, dimension: DIM, queries: queryCount, k: K, backend: 'embedded', quantization: 'f16', connectivity: 16, expansionAdd: 64, expansionSearch: 64, clusters: data.clusters },
      build: { seconds: Math.round(buildSeconds * 10) / 10, pointsPerSecond: Math.round(points / buildSeconds), saveSeconds: Math.round(saveSeconds * 10) / 10, reopenSeconds: Math.round(reopenSeconds * 10) / 10, diskBytes, exactGroundTruthSeconds: Math.round(truthSeconds * 10) / 10 },
      recallAt10: recallAt(denseRun.ids, truth),
      latencyMs: { dense: denseRun.latency, denseFilteredByBook: filteredRun.latency, hybrid: hybridRun.latency },
      quantization,
      privateIndex,
      targets: { recallAt10: 0.95, denseP99Ms: 5, privateColdMs: 50, privateWarmMs: 5 },
    };
    const md = [
      `# Vector bench (${result.at})`,
      '',
      `${points.toLocaleString('en')} × ${DIM}-dim clustered vectors (${data.clusters} clusters) + 12-term sparse vectors, embedded backend (USearch HNSW f16, M=16, ef_add=64, ef_search=64), ${result.machine.cpus} cores.`,
      '',
      '| metric | value | target |',
      '| --- | --- | --- |',
      `| build (upsert, incl. sparse + payload) | ${result.build.seconds} s (${result.build.pointsPerSecond.toLocaleString('en')} pts/s) | |`,
      `| save / reopen (with sha256 checks) | ${result.build.saveSeconds} s / ${result.build.reopenSeconds} s | |`,
      `| on-disk size | ${(diskBytes / 2 ** 20).toFixed(0)} MiB | |`,
      `| recall@10 (dense vs exact, ${queryCount} queries) | ${result.recallAt10} | ≥ 0.95 |`,
      `| dense p50 / p99 | ${denseRun.latency.p50} / ${denseRun.latency.p99} ms | p99 < 5 ms |`,
      `| dense + bookId filter p50 / p99 | ${filteredRun.latency.p50} / ${filteredRun.latency.p99} ms | |`,
      `| hybrid (RRF) p50 / p99 | ${hybridRun.latency.p50} / ${hybridRun.latency.p99} ms | |`,
      `| private index cold (10k notes) p50 / p99 | ${privateIndex.coldMs.p50} / ${privateIndex.coldMs.p99} ms | < 50 ms |`,
      `| private index warm hybrid p50 / p99 | ${privateIndex.warmHybridMs.p50} / ${privateIndex.warmHybridMs.p99} ms | < 5 ms |`,
      '',
      `f16 vs f32 at ${comparisonPoints.toLocaleString('en')} points: ${JSON.stringify(quantization)}`,
      '',
      'Latency is one client, sequential, through `VectorStore.search` (validation and payload copy included). Private-index cold = new service, object read from a local directory (OS page cache warm), deserialise, embed the query, search.',
    ].join('\n');
    await mkdir(options.outDir, { recursive: true });
    const stamp = result.at.replace(/[:.]/g, '-');
    const json = path.join(options.outDir, `vectors-${stamp}.json`);
    const mdPath = path.join(options.outDir, `vectors-${stamp}.md`);
    await writeFile(json, JSON.stringify(result, null, 2));
    await writeFile(mdPath, md + '\n');
    log(md);
    return { json, md: mdPath, result };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): VectorsBenchOptions {
  const value = (flag: string, fallback: number): number => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const parsed = Number(argv[at + 1]);
    if (!Number.isInteger(parsed) || parsed < 100) throw new Error(`${flag} needs an integer ≥ 100`);
    return parsed;
  };
  const outAt = argv.indexOf('--out');
  return {
    points: value('--points', 1_000_000),
    queries: value('--queries', 200),
    privateNotes: value('--notes', 10_000),
    outDir: outAt === -1 ? path.resolve('bench/results') : path.resolve(argv[outAt + 1]!),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runVectorsBench(parseArgs(process.argv.slice(2)));
}
