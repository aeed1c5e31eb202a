/**
 * Request latency while a large book is ingested: does CPU-heavy work (EPUB parsing, chunking,
 * embedding, indexing) stay off the request event loop? Runs the same scenario twice in one
 * process, with worker threads off (FOLIO_WORKER_THREADS=0: everything inline) and on, and
 * reports p50/p99/max latency and 503s of a fixed-rate stream of catalog-only queries sent while
 * the book is uploaded, parsed, published and indexed by search.
 *
 * Run: npm run bench:isolation [-- --paragraphs 100000 --rate 20 --threads 1 --modes off,on]
 * Writes bench/results/cpu-isolation-<timestamp>.json and .md.
 *
 * The platform runs in a child process (bench/isolationPlatform.ts) and the query stream in this
 * one, so a stall of the load generator is not charged to the platform; the platform's own
 * event-loop delay is reported from inside the child. Latency is measured from each query's
 * scheduled send time, so a blocked platform counts against every query it delayed (no
 * coordinated omission). `--cpu-prof DIR` writes a V8 CPU profile of each platform run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { generateSyntheticBook } from '../subgraphs/catalog/demo/synthetic.js';
import { registerEditor } from '../test/kit/accounts.js';
import { createBook, PUBLISH_BOOK, SET_LICENSE, UPLOAD_CONTENT, UPLOAD_JOB } from '../test/kit/catalog.js';
import { graphql } from '../test/kit/platform.js';
import { startPlatformChild, type PlatformChild } from './platformChild.js';

export interface IsolationOptions {
  /** Paragraphs in the synthetic book (split into chapters of 500). */
  readonly paragraphs: number;
  /** Catalog queries per second during the ingest. */
  readonly rate: number;
  /** Worker threads for the "on" run. */
  readonly threads: number;
  readonly modes: ReadonlyArray<'off' | 'on'>;
  /** Where results go; none written when undefined. */
  readonly outDir?: string;
  /** Give up waiting for indexing after this long. */
  readonly timeoutMs?: number;
  /** Write a V8 CPU profile of each platform child here. */
  readonly cpuProfDir?: string;
}

export interface LatencySummary {
  readonly queries: number;
  readonly ok: number;
  readonly shed503: number;
  readonly otherErrors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ModeResult {
  readonly mode: 'off' | 'on';
  readonly workerThreads: number;
  readonly paragraphs: number;
  readonly epubMiB: number;
  /** Seconds from upload to STORED, to published, to INDEXED. */
  readonly storedSeconds: number;
  readonly indexedSeconds: number;
  readonly chunks: number;
  readonly catalog: LatencySummary;
  readonly healthz: LatencySummary;
  /** The platform process's event-loop delay during the ingest (perf_hooks histogram, 10 ms resolution). */
  readonly eventLoopDelay: { readonly p99Ms: number; readonly maxMs: number };
  /** Turns of the platform's loop that came 100 ms or more late, and the time lost to all turns 50 ms or more late. */
  readonly platformStalls: { readonly over100ms: number; readonly stalledMs: number };
  /** The load generator's own event-loop delay (should stay small; large values mean the client skewed the numbers). */
  readonly clientEventLoopDelay: { readonly p99Ms: number; readonly maxMs: number };
  readonly loadAverage1m: { readonly before: number; readonly after: number };
}

export interface IsolationReport {
  readonly benchmark: 'cpu-isolation';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly rate: number;
  readonly runs: ModeResult[];
  readonly files?: { json: string; md: string };
}

const CATALOG_QUERIES = [
  /* GraphQL */ `query Shelf { books(first: 5) { edges { node { id title } } } }`,
  /* GraphQL */ `query One($id: ID!) { book(id: $id) { id title } }`,
];

/** The bench's own control calls (upload, status polls) retry when the gateway sheds them. */
async function control<T>(gateway: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const r = await graphql<T>(gateway, query, variables, { token });
    const shed = r.status === 503 || r.errors?.some((e) => e.extensions?.code === 'SERVICE_OVERLOADED');
    if (shed && attempt < 600) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(samples: ReadonlyArray<{ ms: number; status: number; error: boolean }>): LatencySummary {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    queries: samples.length,
    ok: samples.filter((s) => s.status === 200 && !s.error).length,
    shed503: samples.filter((s) => s.status === 503).length,
    otherErrors: samples.filter((s) => s.status !== 503 && (s.status !== 200 || s.error)).length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/**
 * Sends `send()` at a fixed rate until stopped; each latency counts from the scheduled time, so
 * a stalled process is charged for every request it should have sent meanwhile.
 */
function fixedRate(rate: number, send: (i: number) => Promise<{ status: number; error: boolean }>) {
  const samples: Array<{ ms: number; status: number; error: boolean }> = [];
  const interval = 1000 / rate;
  const start = performance.now();
  let i = 0;
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  const tick = (): void => {
    if (stopped) return;
    const now = performance.now();
    // Catch up on every send the loop missed while it was blocked.
    while (start + i * interval <= now) {
      const scheduled = start + i * interval;
      const n = i++;
      const p = send(n).then(
        (r) => void samples.push({ ms: performance.now() - scheduled, ...r }),
        () => void samples.push({ ms: performance.now() - scheduled, status: 0, error: true }),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
  };
  tick();
  return {
    samples,
    async stop(): Promise<typeof samples> {
      stopped = true;
      await Promise.all(inflight);
      return samples;
    },
  };
}

async function runMode(mode: 'off' | 'on', epub: Buffer, paragraphs: number, options: IsolationOptions): Promise<ModeResult> {
  const threads = mode === 'on' ? options.threads : 0;
  await using platform = await isolatedPlatform(options.cpuProfDir, {
      FOLIO_WORKER_THREADS: String(threads),
      // The production shedding threshold: a blocked loop shows up as 503s, as in the incident.
      FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS: '250',
      FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '100000/60',
      FOLIO_GATEWAY_RATE_LIMIT_USER: '100000/60',
      FOLIO_LOG_LEVEL: 'warn',
  });
  const gateway = platform.gateway;
  const editor = await registerEditor(gateway);
  const token = editor.token;
  const probeBook = await createBook(gateway, token, { title: 'Probe' });
  const bookId = await createBook(gateway, token, { title: 'Large synthetic book' });

  const before = loadavg()[0]!;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await platform.request({ type: 'lag-reset' });
  const catalog = fixedRate(options.rate, async (i) => {
    const query = CATALOG_QUERIES[i % CATALOG_QUERIES.length]!;
    const r = await graphql(gateway, query, { id: probeBook }, { token });
    return { status: r.status, error: (r.errors?.length ?? 0) > 0 };
  });
  const health = fixedRate(2, async () => {
    const r = await fetch(new URL('/healthz', gateway));
    await r.arrayBuffer();
    return { status: r.status, error: false };
  });

  const started = performance.now();
  const upload = await control<{ uploadBookContent: { id: string } }>(gateway, UPLOAD_CONTENT, { input: { bookId, epubBase64: epub.toString('base64') } }, token);
  const jobId = upload.uploadBookContent.id;
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const job = (await control<{ uploadJob: { status: string; failureReason: string | null } }>(gateway, UPLOAD_JOB, { id: jobId }, token)).uploadJob;
    if (job.status === 'STORED') break;
    if (job.status === 'FAILED') throw new Error(`upload failed: ${job.failureReason}`);
    if (Date.now() > deadline) throw new Error('upload did not finish in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  const storedSeconds = (performance.now() - started) / 1000;
  await control(gateway, PUBLISH_BOOK, { id: bookId }, token);
  await control(gateway, SET_LICENSE, { input: { bookId } }, token);
  let chunks: number;
  for (;;) {
    const status = (await control<{ searchIndexStatus: { state: string; chunksTotal: number } | null }>(gateway, `query($id: ID!) { searchIndexStatus(bookId: $id) { state chunksTotal } }`, { id: bookId }, token)).searchIndexStatus;
    if (status?.state === 'INDEXED') {
      chunks = status.chunksTotal;
      break;
    }
    if (status?.state === 'FAILED') throw new Error('indexing failed');
    if (Date.now() > deadline) throw new Error('indexing did not finish in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  const indexedSeconds = (performance.now() - started) / 1000;
  lag.disable();
  const serverLag = await platform.request<{ p99Ms: number; maxMs: number; stalls100: number; stalledMs: number }>({ type: 'lag' });
  const catalogSamples = await catalog.stop();
  const healthSamples = await health.stop();
  return {
    mode,
    workerThreads: threads,
    paragraphs,
    epubMiB: round(epub.length / 1024 / 1024),
    storedSeconds: round(storedSeconds),
    indexedSeconds: round(indexedSeconds),
    chunks,
    catalog: summarize(catalogSamples),
    healthz: summarize(healthSamples),
    eventLoopDelay: { p99Ms: round(serverLag.p99Ms), maxMs: round(serverLag.maxMs) },
    platformStalls: { over100ms: serverLag.stalls100, stalledMs: serverLag.stalledMs },
    clientEventLoopDelay: { p99Ms: round(lag.percentile(99) / 1e6), maxMs: round(lag.max / 1e6) },
    loadAverage1m: { before: round(before), after: round(loadavg()[0]!) },
  };
}

/** The platform in its own process (see bench/isolationPlatform.ts), profiled into `cpuProfDir` when given. */
const isolatedPlatform = (cpuProfDir: string | undefined, env: Record<string, string>): Promise<PlatformChild> =>
  startPlatformChild('isolationPlatform.ts', {
    execArgv: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
    env: { FOLIO_BENCH_PLATFORM_ENV: JSON.stringify(env), ...(cpuProfDir ? { FOLIO_BENCH_STALL_DIR: cpuProfDir } : {}) },
  });

export async function runIsolationBench(options: IsolationOptions): Promise<IsolationReport> {
  const perChapter = Math.min(500, options.paragraphs);
  const chapters = Math.max(1, Math.round(options.paragraphs / perChapter));
  const epub = await buildEpub(generateSyntheticBook({ chapters, paragraphsPerChapter: perChapter, seed: 17, language: 'en' }));
  const runs: ModeResult[] = [];
  if (options.cpuProfDir) await mkdir(options.cpuProfDir, { recursive: true });
  for (const mode of options.modes) runs.push(await runMode(mode, epub, chapters * perChapter, options));
  const report: IsolationReport = { benchmark: 'cpu-isolation', at: new Date().toISOString(), node: process.version, cpus: availableParallelism(), rate: options.rate, runs };
  if (!options.outDir) return report;

  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `cpu-isolation-${stamp}.json`);
  const md = join(options.outDir, `cpu-isolation-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const row = (r: ModeResult, name: 'catalog' | 'healthz'): string => {
    const s = r[name];
    return `| ${r.mode} (${r.workerThreads} threads) | ${name} | ${s.queries} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} | ${s.shed503} | ${s.otherErrors} | ${r.storedSeconds} | ${r.indexedSeconds} | ${r.eventLoopDelay.p99Ms} / ${r.eventLoopDelay.maxMs} | ${r.platformStalls.over100ms} / ${(r.platformStalls.stalledMs / 1000).toFixed(1)} | ${r.clientEventLoopDelay.p99Ms} / ${r.clientEventLoopDelay.maxMs} | ${r.loadAverage1m.before} → ${r.loadAverage1m.after} |`;
  };
  const markdown = `# CPU isolation benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs. One synthetic English book of ${runs[0]?.paragraphs ?? 0} paragraphs
(${runs[0]?.epubMiB ?? 0} MiB EPUB, ${runs[0]?.chunks ?? 0} search chunks) uploaded, parsed, published and indexed
through the gateway while ${report.rate} catalog-only queries/s (\`books(first: 5)\`, \`book(id) { title }\`) and
2 \`/healthz\`/s run. Latency from each request's scheduled send time; gateway load shedding at its
production threshold (250 ms event-loop lag). "off" = FOLIO_WORKER_THREADS=0 (all work inline).
The platform runs in its own process; "platform loop" is its event-loop delay, "client loop" the
load generator's (it must stay small for the latencies to be the platform's); "platform stalls"
counts turns of the platform's loop 100 ms or more late, and the seconds lost to turns 50 ms or
more late. "load 1m" is the machine's 1-minute load average before → after the run (2 CPUs shared
with other work: the absolute latencies move with it).

| mode | requests | sent | p50 ms | p99 ms | max ms | 503 | other errors | stored s | indexed s | platform loop p99/max ms | platform stalls ≥100 ms / s lost | client loop p99/max ms | load 1m |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |
${runs.flatMap((r) => [row(r, 'catalog'), row(r, 'healthz')]).join('\n')}
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      paragraphs: { type: 'string', default: '100000' },
      rate: { type: 'string', default: '20' },
      threads: { type: 'string', default: String(Math.max(1, availableParallelism() - 1)) },
      modes: { type: 'string', default: 'off,on' },
      'cpu-prof': { type: 'string' },
    },
  });
  const report = await runIsolationBench({
    paragraphs: Number(values.paragraphs),
    rate: Number(values.rate),
    threads: Number(values.threads),
    modes: values.modes.split(',') as Array<'off' | 'on'>,
    ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
  console.log(JSON.stringify(report.runs, null, 2));
  console.log(`written: ${report.files?.md}`);
}
