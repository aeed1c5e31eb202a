/**
 * Vector bench: builds an embedded index of N clustered 384-dim vectors (default 1,000,000) with
 * sparse vectors and payloads, then reports build time, on-disk size, reopen time, recall@10 vs
 * exact search, p50/p99 latency of dense / filtered dense / hybrid queries (one client), an
 * f16-vs-f32 comparison on a subset, and per-user private index cold/warm latency at 10k notes.
 *
 *   npm run bench:vectors -- [--points N] [--queries Q] [--notes N] [--data embedding|isotropic]
 *                            [--m M] [--ef-add EF] [--ef EF] [--out DIR]
 *
 * Data (`--data`):
 * - embedding (default): shaped like sentence-embedding corpora. A shared mean direction
 *   (anisotropy: random pairs have cosine ≈ 0.2), ~N/1000 topic clusters grouped under ~N/25,000
 *   super-topics, and within a cluster low-rank variation (24 directions with a decaying spectrum)
 *   plus a little isotropic noise, so near neighbours are meaningfully nearer than the 100th.
 * - isotropic: the first version of this bench: cluster centre + uniform noise in all 384
 *   dimensions. Within a cluster every point is then almost equidistant from every other (at 1M
 *   the 2nd and the 100th neighbour differ by 0.03 in cosine), which real embeddings are not; kept
 *   as a stress case.
 * Queries are data points plus small noise; sparse terms are Zipf-distributed with per-cluster
 * topic terms so dense and sparse rankings correlate. The report states the neighbour cosines.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DirectoryObjectStore } from '../lib/objectStore.js';
import { EmbeddedVectorStore, exactCosineTopK, resolveTuning, usearchVersion } from '../lib/vectors/index.js';
import type { SearchRequest, SparseVector, VectorPoint } from '../lib/vectors/index.js';
import { LocalHashEmbedder } from '../subgraphs/search/core/embedder.js';
import { PrivateIndexService } from '../subgraphs/search/core/privateIndex.js';
import { seededRandom as rng } from '../test/kit/random.js';

export interface VectorsBenchOptions {
  readonly points: number;
  readonly queries: number;
  readonly outDir: string;
  readonly privateNotes: number;
  /** @default 'embedding' */
  readonly data?: 'embedding' | 'isotropic';
  /** HNSW tuning; defaults are the embedded store's. */
  readonly connectivity?: number;
  readonly expansionAdd?: number;
  readonly expansionSearch?: number;
  /** Query-time ef values to sweep on the built index. @default [64, 128, 256, 512] */
  readonly efSweep?: readonly number[];
  readonly log?: (line: string) => void;
}

const DIM = 384;
const K = 10;
const BATCH = 10_000;
const VOCAB = 50_000;

export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

export interface Dataset {
  readonly vectors: Float32Array;
  readonly cluster: Uint32Array;
  readonly clusters: number;
}

export function generateIsotropic(points: number, random: () => number): Dataset {
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
  return sampleClusters(points, clusters, random, (row, c) => {
    for (let d = 0; d < DIM; d++) row[d] = centres[c * DIM + d]! + (random() * 2 - 1) * spread[c]!;
  });
}

/** Each point picks a cluster at random; `fill` writes its vector, which is then normalised. */
function sampleClusters(points: number, clusters: number, random: () => number, fill: (row: Float32Array, cluster: number) => void): Dataset {
  const vectors = new Float32Array(points * DIM);
  const cluster = new Uint32Array(points);
  for (let i = 0; i < points; i++) {
    const c = Math.floor(random() * clusters);
    cluster[i] = c;
    const row = vectors.subarray(i * DIM, (i + 1) * DIM);
    fill(row, c);
    normalise(row);
  }
  return { vectors, cluster, clusters };
}

/** Directions of variation inside one cluster (see the file comment). */
const RANK = 24;

export function generateEmbeddingLike(points: number, random: () => number): Dataset {
  const unit = (): number => (random() * 2 - 1) * Math.sqrt(3); // variance 1
  const clusters = Math.max(8, Math.round(points / 1000));
  const supers = Math.max(4, Math.round(clusters / 25));
  const common = normalise(Float32Array.from({ length: DIM }, unit));
  const superCentres = Array.from({ length: supers }, () => normalise(Float32Array.from({ length: DIM }, unit)));
  const centres = new Float32Array(clusters * DIM);
  const basis = new Float32Array(clusters * RANK * DIM);
  for (let c = 0; c < clusters; c++) {
    const topic = superCentres[Math.floor(random() * supers)]!;
    const own = normalise(Float32Array.from({ length: DIM }, unit));
    const centre = centres.subarray(c * DIM, (c + 1) * DIM);
    for (let d = 0; d < DIM; d++) centre[d] = 0.5 * common[d]! + 0.6 * topic[d]! + 0.6 * own[d]!;
    normalise(centre);
    for (let j = 0; j < RANK; j++) basis.set(normalise(Float32Array.from({ length: DIM }, unit)), (c * RANK + j) * DIM);
  }
  const spread = Float32Array.from({ length: clusters }, () => 0.5 + random() * 0.4);
  const sigma = Float32Array.from({ length: RANK }, (_, j) => Math.pow(j + 1, -0.8));
  const total = Math.sqrt(sigma.reduce((sum, x) => sum + x * x, 0));
  for (let j = 0; j < RANK; j++) sigma[j]! /= total;
  const isotropic = 0.15 / Math.sqrt(DIM);
  return sampleClusters(points, clusters, random, (row, c) => {
    row.set(centres.subarray(c * DIM, (c + 1) * DIM));
    for (let j = 0; j < RANK; j++) {
      const g = unit() * sigma[j]! * spread[c]!;
      const at = (c * RANK + j) * DIM;
      for (let d = 0; d < DIM; d++) row[d]! += g * basis[at + d]!;
    }
    for (let d = 0; d < DIM; d++) row[d]! += unit() * isotropic;
  });
}

/** Mean cosine of the 1st, 2nd, 10th and 100th true neighbour of the queries, and of random pairs. */
function neighbourCosines(data: Dataset, queries: Float32Array, truth100: number[][], random: () => number): Record<string, number> {
  const dot = (a: Float32Array, ai: number, b: Float32Array, bi: number): number => {
    let s = 0;
    for (let d = 0; d < DIM; d++) s += a[ai * DIM + d]! * b[bi * DIM + d]!;
    return s;
  };
  const points = data.vectors.length / DIM;
  const at = (rank: number): number => round3(truth100.reduce((sum, row, q) => sum + dot(data.vectors, row[Math.min(rank, row.length - 1)]!, queries, q), 0) / truth100.length);
  let pairs = 0;
  for (let i = 0; i < 2000; i++) pairs += dot(data.vectors, Math.floor(random() * points), data.vectors, Math.floor(random() * points));
  return { first: at(0), second: at(1), tenth: at(9), hundredth: at(99), randomPair: round3(pairs / 2000) };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function zipfTerm(random: () => number): number {
  // Inverse-CDF of a ~1/rank distribution over the vocabulary.
  return Math.floor(Math.exp(random() * Math.log(VOCAB))) - 1;
}

export function sparseFor(cluster: number, random: () => number, terms: number): SparseVector {
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

/** GC pauses while `work` runs: count, total and longest (ms), to explain latency outliers. */
async function withGcStats<T>(work: () => Promise<T>): Promise<{ value: T; gc: { count: number; totalMs: number; maxMs: number } }> {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((entry) => pauses.push(entry.duration)));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const value = await work();
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the observer deliver (entries arrive asynchronously)
    return { value, gc: { count: pauses.length, totalMs: round3(pauses.reduce((a, b) => a + b, 0)), maxMs: round3(Math.max(0, ...pauses)) } };
  } finally {
    observer.disconnect();
  }
}

async function timeQueries(store: EmbeddedVectorStore, requests: SearchRequest[]) {
  for (const request of requests.slice(0, 20)) await store.search('bench', request); // warm-up
  const loadAverage = loadavg()[0]!;
  const { value, gc } = await withGcStats(async () => {
    const samples: number[] = [];
    const ids: string[][] = [];
    for (const request of requests) {
      const started = performance.now();
      const hits = await store.search('bench', request);
      samples.push(performance.now() - started);
      ids.push(hits.map((h) => h.id));
    }
    return { samples, ids };
  });
  return { latency: { ...latencyStats(value.samples), load1m: round2(loadAverage), gc }, ids: value.ids };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

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

/** A note-like vocabulary: a few thousand Latin words and CJK words, drawn Zipf-style (common words common). */
function noteWords(random: () => number): string[] {
  const seeds = 'reading whale sea captain memory garden letter winter river love war time light city history novel 黑暗 森林 文明 宇宙 小说 历史 城市 记忆 时间 河流'.split(' ');
  const syllables = ['ka', 'lo', 'mi', 'ren', 'sa', 'tor', 'vel', 'an', 'dis', 'em', 'gor', 'ith', 'nu', 'pra', 'ul', 'zen'];
  const words = [...seeds];
  while (words.length < 4000) words.push(Array.from({ length: 2 + Math.floor(random() * 2) }, () => syllables[Math.floor(random() * syllables.length)]).join(''));
  return words;
}

async function privateIndexBench(notes: number, dir: string) {
  const embedder = new LocalHashEmbedder();
  const store = new DirectoryObjectStore(dir);
  const random = rng(7);
  const words = noteWords(random);
  const pick = (): string => words[Math.min(words.length - 1, Math.floor(Math.exp(random() * Math.log(words.length))) - 1)]!;
  const items = Array.from({ length: notes }, (_, i) => ({
    id: `note-${i}`,
    kind: (i % 3 === 0 ? 'highlight' : 'note') as 'note' | 'highlight',
    bookId: `book-${i % 40}`,
    text: Array.from({ length: 12 + Math.floor(random() * 30) }, pick).join(' '),
  }));
  const writer = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
  const started = performance.now();
  for (let i = 0; i < items.length; i += 1000) await writer.upsert('bench-user', items.slice(i, i + 1000));
  const buildMs = performance.now() - started;
  const objectBytes = (await store.get(PrivateIndexService.objectKey('bench-user')))!.length;
  const queries = Array.from({ length: 200 }, () => `${pick()} ${pick()} ${pick()}`);

  // Cold = a user whose index is not in memory, on a running server: the first load in a fresh
  // process also pays JIT compilation of the load path, reported on its own as firstInProcessMs.
  const cold: number[] = [];
  const coldLoad = loadavg()[0]!;
  for (let round = 0; round <= 30; round++) {
    const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
    const t = performance.now();
    await service.search('bench-user', queries[round]!, { limit: 10 });
    cold.push(performance.now() - t);
  }
  const firstInProcessMs = round3(cold.shift()!);
  const service = new PrivateIndexService({ store, embedder, maxCacheBytes: 512 << 20 });
  for (const query of queries.slice(0, 20)) await service.search('bench-user', query); // warm-up
  const warmLoad = loadavg()[0]!;
  const warm: number[] = [];
  const filtered: number[] = [];
  for (let q = 0; q < queries.length; q++) {
    let t = performance.now();
    await service.search('bench-user', queries[q]!, { limit: 10 });
    warm.push(performance.now() - t);
    t = performance.now();
    await service.search('bench-user', queries[q]!, { limit: 10, bookId: `book-${q % 40}` });
    filtered.push(performance.now() - t);
  }
  return {
    notes,
    vocabulary: words.length,
    objectBytes,
    buildSeconds: Math.round(buildMs / 100) / 10,
    coldMs: { ...latencyStats(cold), load1m: round2(coldLoad), firstInProcessMs },
    warmHybridMs: { ...latencyStats(warm), load1m: round2(warmLoad) },
    warmFilteredMs: latencyStats(filtered),
  };
}

export async function runVectorsBench(options: VectorsBenchOptions): Promise<{ json: string; md: string; result: Record<string, unknown> }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { points, queries: queryCount } = options;
  const dataKind = options.data ?? 'embedding';
  const defaults = resolveTuning({});
  const tuning = {
    connectivity: options.connectivity ?? defaults.connectivity,
    expansionAdd: options.expansionAdd ?? defaults.expansionAdd,
    expansionSearch: options.expansionSearch ?? defaults.expansionSearch,
  };
  const loads: Record<string, number> = { start: round2(loadavg()[0]!) };
  const work = await mkdtemp(path.join(tmpdir(), 'folio-vectors-bench-'));
  try {
    const random = rng(2024);
    let t = performance.now();
    const data = dataKind === 'isotropic' ? generateIsotropic(points, random) : generateEmbeddingLike(points, random);
    log(`generated ${points} ${dataKind} vectors in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const queries = new Float32Array(queryCount * DIM);
    const sourceOf: number[] = [];
    for (let q = 0; q < queryCount; q++) {
      const source = Math.floor(random() * points);
      sourceOf.push(source);
      const row = queries.subarray(q * DIM, (q + 1) * DIM);
      for (let d = 0; d < DIM; d++) row[d] = data.vectors[source * DIM + d]! + (random() * 2 - 1) * 0.02;
      normalise(row);
    }

    // The store's own ef is the smallest swept value; every request names its ef (USearch walks
    // with max(expansion_search, ef)), so one index answers at each ef of the sweep.
    const efSweepValues = options.efSweep ?? [64, 128, 256, 512];
    const storeTuning = { ...tuning, expansionSearch: Math.min(tuning.expansionSearch, ...efSweepValues) };
    const store = await EmbeddedVectorStore.open({ directory: path.join(work, 'main'), ...storeTuning });
    await store.ensureCollection('bench', { dimension: DIM, embedderId: 'bench:384', payloadIndexes: ['bookId'] });
    const books = Math.max(10, Math.round(points / 1000));
    const sparseRandom = rng(99);
    loads.build = round2(loadavg()[0]!);
    t = performance.now();
    for (let s = 0; s < points; s += BATCH) {
      const n = Math.min(BATCH, points - s);
      const batch: VectorPoint[] = Array.from({ length: n }, (_, j) => {
        const i = s + j;
        return { id: `p${i}`, dense: data.vectors.subarray(i * DIM, (i + 1) * DIM), sparse: sparseFor(data.cluster[i]!, sparseRandom, 12), payload: { bookId: `b${i % books}`, chapterId: `c${i % 37}` } };
      });
      await store.upsert('bench', batch);
      if ((s / BATCH) % 10 === 0) log(`  upserted ${s + n} / ${points} (${((performance.now() - t) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)})`);
    }
    const buildSeconds = (performance.now() - t) / 1000;
    loads.buildEnd = round2(loadavg()[0]!);
    log(`built in ${buildSeconds.toFixed(1)} s`);
    t = performance.now();
    await store.flush();
    const saveSeconds = (performance.now() - t) / 1000;
    const diskBytes = await dirSize(path.join(work, 'main'));

    t = performance.now();
    const truth100 = exactCosineTopK(data.vectors, queries, DIM, Math.min(100, points));
    const truth = truth100.map((row) => row.slice(0, K));
    const truthSeconds = (performance.now() - t) / 1000;
    const neighbours = neighbourCosines(data, queries, truth100, rng(5));
    log(`neighbour cosines ${JSON.stringify(neighbours)}`);

    const dense = Array.from({ length: queryCount }, (_, q) => ({ mode: 'dense' as const, dense: queries.subarray(q * DIM, (q + 1) * DIM), limit: K, ef: tuning.expansionSearch }));
    const denseRun = await timeQueries(store, dense);
    const efSweep: Array<{ ef: number; recallAt10: number; latency: unknown }> = [];
    for (const ef of efSweepValues) {
      const run = await timeQueries(store, dense.map((request) => ({ ...request, ef })));
      efSweep.push({ ef, recallAt10: recallAt(run.ids, truth), latency: run.latency });
      log(`  ef ${ef}: recall@10 ${recallAt(run.ids, truth)}, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms (load ${run.latency.load1m})`);
    }
    const hybrid = dense.map((request, q) => {
      const terms = sparseFor(data.cluster[sourceOf[q]!]!, rng(q), 4).indices;
      return { ...request, mode: 'hybrid' as const, sparse: { indices: terms, values: terms.map(() => 1) } };
    });
    const hybridRun = await timeQueries(store, hybrid);
    const filtered = dense.map((request, q) => ({ ...request, filter: { must: [{ key: 'bookId', match: `b${q % books}` }] } }));
    const filteredRun = await timeQueries(store, filtered);
    const filteredHybridRun = await timeQueries(store, hybrid.map((request, q) => ({ ...request, filter: { must: [{ key: 'bookId', match: `b${q % books}` }] } })));
    // Filtered ground truth: exact top-10 among the book's points.
    const filteredTruth = filtered.map((_, q) => {
      const rows: number[] = [];
      for (let i = q % books; i < points; i += books) rows.push(i);
      const subset = new Float32Array(rows.length * DIM);
      rows.forEach((row, r) => subset.set(data.vectors.subarray(row * DIM, (row + 1) * DIM), r * DIM));
      return exactCosineTopK(subset, queries.slice(q * DIM, (q + 1) * DIM), DIM, Math.min(K, rows.length))[0]!.map((r) => rows[r]!);
    });
    log(`dense recall@10 ${recallAt(denseRun.ids, truth)}, p99 ${denseRun.latency.p99} ms; hybrid p99 ${hybridRun.latency.p99} ms; filtered p99 ${filteredRun.latency.p99} ms`);
    await store.close();

    t = performance.now();
    const reopened = await EmbeddedVectorStore.open({ directory: path.join(work, 'main'), ...storeTuning });
    await reopened.info('bench');
    const reopenSeconds = (performance.now() - t) / 1000;
    await reopened.close();

    const comparisonPoints = Math.min(points, 20_000);
    log(`f16 vs f32 on ${comparisonPoints} points…`);
    loads.quantization = round2(loadavg()[0]!);
    const quantization = await quantizationComparison(data, queries, queryCount, path.join(work, 'quant'), comparisonPoints);
    log(`private index with ${options.privateNotes} notes…`);
    const privateIndex = await privateIndexBench(options.privateNotes, path.join(work, 'objects'));
    loads.end = round2(loadavg()[0]!);

    const result = {
      bench: 'vectors',
      at: new Date().toISOString(),
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, usearch: usearchVersion(), loadAverage1m: loads },
      config: { points, dimension: DIM, queries: queryCount, k: K, backend: 'embedded', quantization: 'f16', ...tuning, data: dataKind, clusters: data.clusters, neighbourCosines: neighbours },
      build: { seconds: Math.round(buildSeconds * 10) / 10, pointsPerSecond: Math.round(points / buildSeconds), threads: availableParallelism(), saveSeconds: Math.round(saveSeconds * 10) / 10, reopenSeconds: Math.round(reopenSeconds * 10) / 10, diskBytes, exactGroundTruthSeconds: Math.round(truthSeconds * 10) / 10 },
      recallAt10: recallAt(denseRun.ids, truth),
      filteredRecallAt10: recallAt(filteredRun.ids, filteredTruth),
      efSweep,
      latencyMs: { dense: denseRun.latency, denseFilteredByBook: filteredRun.latency, hybrid: hybridRun.latency, hybridFilteredByBook: filteredHybridRun.latency },
      quantization,
      privateIndex,
      targets: { recallAt10: 0.95, denseP99Ms: 5, privateColdMs: 50, privateWarmMs: 5 },
    };
    const lat = (l: { p50: number; p99: number; load1m: number; gc: { count: number; maxMs: number } }): string => `${l.p50} / ${l.p99} ms | load ${l.load1m}; GC ${l.gc.count}× max ${l.gc.maxMs} ms`;
    const md = [
      `# Vector bench (${result.at})`,
      '',
      `${points.toLocaleString('en')} × ${DIM}-dim **${dataKind}** vectors (${data.clusters} clusters; mean cosine of a query's 1st / 2nd / 10th / 100th true neighbour ${neighbours.first} / ${neighbours.second} / ${neighbours.tenth} / ${neighbours.hundredth}, random pairs ${neighbours.randomPair}) + 12-term sparse vectors. Embedded backend: USearch ${result.machine.usearch} HNSW f16, M=${tuning.connectivity}, ef_add=${tuning.expansionAdd}, ef_search=${tuning.expansionSearch}; ${result.machine.cpus} cores (${result.machine.model}), Node ${process.version}. 1-minute load average: ${JSON.stringify(loads)} (other engineers' tests share the machine).`,
      '',
      '| metric | value | load / GC during the run | target |',
      '| --- | --- | --- | --- |',
      `| build (upsert, incl. sparse + payload; batch add on ${availableParallelism()} threads) | ${result.build.seconds} s (${result.build.pointsPerSecond.toLocaleString('en')} pts/s) | load ${loads.build} → ${loads.buildEnd} | |`,
      `| save / reopen (with sha256 checks) | ${result.build.saveSeconds} s / ${result.build.reopenSeconds} s | | |`,
      `| on-disk size | ${(diskBytes / 2 ** 20).toFixed(0)} MiB | | |`,
      `| recall@10 (dense vs exact, ${queryCount} queries, ef ${tuning.expansionSearch}) | ${result.recallAt10} | | ≥ 0.95 |`,
      `| dense p50 / p99 | ${lat(denseRun.latency)} | p99 < 5 ms |`,
      `| dense + bookId filter p50 / p99 (recall@10 ${result.filteredRecallAt10}) | ${lat(filteredRun.latency)} | |`,
      `| hybrid (RRF) p50 / p99 | ${lat(hybridRun.latency)} | |`,
      `| hybrid + bookId filter p50 / p99 | ${lat(filteredHybridRun.latency)} | |`,
      `| private index cold (${privateIndex.notes.toLocaleString('en')} notes, ${(privateIndex.objectBytes / 2 ** 20).toFixed(1)} MiB object) p50 / p99 | ${privateIndex.coldMs.p50} / ${privateIndex.coldMs.p99} ms (first load in a fresh process, JIT cold: ${privateIndex.coldMs.firstInProcessMs} ms) | load ${privateIndex.coldMs.load1m} | < 50 ms |`,
      `| private index warm hybrid p50 / p99 | ${privateIndex.warmHybridMs.p50} / ${privateIndex.warmHybridMs.p99} ms | load ${privateIndex.warmHybridMs.load1m} | < 5 ms |`,
      `| private index warm hybrid + bookId filter p50 / p99 | ${privateIndex.warmFilteredMs.p50} / ${privateIndex.warmFilteredMs.p99} ms | | |`,
      '',
      'Query-time ef on the same index (per-query `ef`: USearch walks with max(expansion_search, ef); the bench opens the store with the smallest swept ef):',
      '',
      '| ef | recall@10 | p50 / p99 | load / GC |',
      '| --- | --- | --- | --- |',
      ...efSweep.map((row) => {
        const l = row.latency as { p50: number; p99: number; load1m: number; gc: { count: number; maxMs: number } };
        return `| ${row.ef} | ${row.recallAt10} | ${l.p50} / ${l.p99} ms | load ${l.load1m}; GC ${l.gc.count}× max ${l.gc.maxMs} ms |`;
      }),
      '',
      `f16 vs f32 HNSW at ${comparisonPoints.toLocaleString('en')} points: ${JSON.stringify(quantization)}`,
      '',
      'Latency is one client, sequential, through `VectorStore.search` (validation and payload copy included). Private-index cold = new service, object read from a local directory (OS page cache warm), deserialise, embed the query, hybrid search; notes are 12–42 words drawn Zipf-style from a 4,000-word vocabulary.',
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
  const value = (flag: string, fallback: number | undefined, min = 100): number | undefined => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const parsed = Number(argv[at + 1]);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${flag} needs an integer ≥ ${min}`);
    return parsed;
  };
  const outAt = argv.indexOf('--out');
  const dataAt = argv.indexOf('--data');
  const data = dataAt === -1 ? 'embedding' : argv[dataAt + 1];
  if (data !== 'embedding' && data !== 'isotropic') throw new Error('--data is embedding or isotropic');
  return {
    points: value('--points', 1_000_000)!,
    queries: value('--queries', 200)!,
    privateNotes: value('--notes', 10_000)!,
    data,
    connectivity: value('--m', undefined, 2),
    expansionAdd: value('--ef-add', undefined, 1),
    expansionSearch: value('--ef', undefined, 1),
    outDir: outAt === -1 ? path.resolve('bench/results') : path.resolve(argv[outAt + 1]!),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runVectorsBench(parseArgs(process.argv.slice(2)));
}
