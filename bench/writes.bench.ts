/**
 * End-to-end write throughput through the gateway on the embedded store: progress updates/s,
 * notes/s and highlights/s with `users` concurrent readers, each one request at a time and never
 * faster than its per-user rate limit allows, and the p99 of each — once per store commit mode
 * (FOLIO_STORE_COMMIT), in the same run, so the ratios compare like with like on a loaded machine:
 * 'serial' (group commit, a transaction holds the write lock until durable: the store before
 * pipelining) and 'pipelined' (the default). Each mode also reports fsyncs/s and records per batch.
 *
 * Run: npm run bench:writes [-- --users 50 --seconds 20 --modes serial,pipelined]
 * Writes bench/results/writes-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { embeddedStoreStats } from '../lib/storage/embedded/index.js';
import { COMMIT_MODES, type CommitMode } from '../lib/storage/embedded/engine.js';
import { startTestPlatform } from '../test/kit/platform.js';
import { BENCH_ENV, round, seedLibrary, summarize, timed, write, type KindSummary, type Sample, type WriteKind } from './support.js';

export interface WritesOptions {
  readonly users: number;
  /** Seconds of load per kind. */
  readonly seconds: number;
  /** Store commit modes to measure, in order. @default ['serial', 'pipelined'] */
  readonly modes?: readonly CommitMode[];
  readonly outDir?: string;
}

export interface KindResult extends KindSummary {
  readonly kind: WriteKind;
  readonly mode: CommitMode;
  readonly perSecond: number;
  /** Journal fdatasyncs per second over all databases, and records per group commit. */
  readonly fsyncsPerSecond: number;
  readonly recordsPerBatch: number;
  readonly loadAverage1m: number;
}

export interface WritesReport {
  readonly benchmark: 'writes';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly users: number;
  readonly seconds: number;
  /** The per-user gateway limit each reader stays under. */
  readonly userRateLimit: string;
  readonly results: KindResult[];
  readonly files?: { json: string; md: string };
}

const KINDS: readonly WriteKind[] = ['progress', 'note', 'highlight'];

const commitTotals = (): { fsyncs: number; records: number } =>
  embeddedStoreStats().reduce((t, s) => ({ fsyncs: t.fsyncs + s.commits.fsyncs, records: t.records + s.commits.records }), { fsyncs: 0, records: 0 });

export async function runWritesBench(options: WritesOptions): Promise<WritesReport> {
  const results: KindResult[] = [];
  let userRateLimit = '';
  for (const mode of options.modes ?? ['serial', 'pipelined']) {
    const { limit, kinds } = await runMode(mode, options);
    userRateLimit = limit;
    results.push(...kinds);
  }
  return writeReport(options, userRateLimit, results);
}

async function runMode(mode: CommitMode, options: WritesOptions): Promise<{ limit: string; kinds: KindResult[] }> {
  await using platform = await startTestPlatform({ env: { ...BENCH_ENV, FOLIO_STORE_COMMIT: mode } });
  const gateway = platform.gateway;
  const library = await seedLibrary(gateway, options.users);
  const { points, durationSeconds } = platform.config.gateway.rateLimitUser;
  // 90% of the per-user limit: a reader never hits it, so every sample is a real write.
  const minGapMs = (durationSeconds * 1000) / (points * 0.9);

  const results: KindResult[] = [];
  for (const kind of KINDS) {
    const before = commitTotals();
    const samples: Sample[] = [];
    const started = performance.now();
    const end = started + options.seconds * 1000;
    await Promise.all(
      library.users.map(async (user) => {
        while (performance.now() < end) {
          const from = performance.now();
          samples.push(await timed(kind, () => write(gateway, library, user, kind), from));
          const wait = from + minGapMs - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const ok = samples.filter((s) => s.ok).length;
    const after = commitTotals();
    const fsyncs = after.fsyncs - before.fsyncs;
    results.push({
      kind,
      mode,
      ...summarize(samples),
      perSecond: round(ok / elapsed),
      fsyncsPerSecond: round(fsyncs / elapsed),
      recordsPerBatch: fsyncs > 0 ? round((after.records - before.records) / fsyncs) : 0,
      loadAverage1m: round(loadavg()[0]!),
    });
    const r = results.at(-1)!;
    console.log(`${mode} ${kind}: ${r.perSecond}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, fsyncs/s ${r.fsyncsPerSecond}, records/batch ${r.recordsPerBatch}, load ${r.loadAverage1m}`);
  }
  return { limit: `${points}/${durationSeconds}s`, kinds: results };
}

async function writeReport(options: WritesOptions, userRateLimit: string, results: KindResult[]): Promise<WritesReport> {
  const report: WritesReport = {
    benchmark: 'writes',
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    users: options.users,
    seconds: options.seconds,
    userRateLimit,
    results,
  };
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `writes-${stamp}.json`);
  const md = join(options.outDir, `writes-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const base = (r: KindResult): KindResult | undefined => results.find((b) => b.mode === 'serial' && b.kind === r.kind);
  const ratio = (r: KindResult): string => {
    const b = base(r);
    return b && b.perSecond > 0 && r.mode !== 'serial' ? `${round(r.perSecond / b.perSecond)}×` : '';
  };
  const markdown = `# Write throughput benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs. ${options.users} concurrent readers through the gateway, embedded store,
${options.seconds} s per kind and commit mode (FOLIO_STORE_COMMIT; each mode on a fresh platform in this same run); each
reader sends one request at a time and stays under its per-user limit (${report.userRateLimit}). Writes/s counts
successful writes; latency is per request; fsyncs/s and records/batch are the journal's group commits over all databases.
'serial' is the store before pipelining (a transaction holds the write lock until its commit is durable).

| mode | write | per second | vs serial | requests | errors | p50 ms | p99 ms | max ms | fsyncs/s | records/batch | load 1m |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${results.map((r) => `| ${r.mode} | ${r.kind} | ${r.perSecond} | ${ratio(r)} | ${r.count} | ${r.errors} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.fsyncsPerSecond} | ${r.recordsPerBatch} | ${r.loadAverage1m} |`).join('\n')}
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' }, modes: { type: 'string', default: 'serial,pipelined' } } });
  const modes = values.modes.split(',').map((m) => m.trim()) as CommitMode[];
  if (!modes.every((m) => COMMIT_MODES.includes(m))) throw new Error(`--modes: choose from ${COMMIT_MODES.join(', ')}`);
  const report = await runWritesBench({ users: Number(values.users), seconds: Number(values.seconds), modes, outDir: join(dirname(fileURLToPath(import.meta.url)), 'results') });
  console.log(`written: ${report.files?.md}`);
}
