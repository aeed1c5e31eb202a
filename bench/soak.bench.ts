/**
 * Soak: mixed reads and writes through the gateway at a fixed rate for a long time, reporting per
 * minute the process RSS and heap, the data directory's size, and p50/p99 of reads and writes.
 * Goal (issue 17): flat p50 and under 5% RSS growth after warm-up.
 *
 * Run: npm run bench:soak [-- --minutes 30 --rate 40 --users 20 --warmup 2]
 * Writes bench/results/soak-<timestamp>.json and .md.
 *
 * The load generator runs in the platform's process (test kit style), so RSS includes it; its
 * own memory is bounded (samples are kept per minute, then only their summary).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../test/kit/platform.js';
import { BENCH_ENV, directoryBytes, read, round, seedLibrary, summarize, timed, write, type KindSummary, type ReadKind, type Sample, type WriteKind } from './support.js';

export interface SoakOptions {
  readonly minutes: number;
  /** Requests per second, all kinds together. */
  readonly rate: number;
  readonly users: number;
  /** Minutes excluded from the growth figures (caches fill, code warms up). */
  readonly warmupMinutes: number;
  /** Length of one reporting interval (a minute, except in the quick test). */
  readonly intervalMs?: number;
  readonly outDir?: string;
}

export interface SoakInterval {
  readonly minute: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly dataDirMiB: number;
  readonly reads: KindSummary;
  readonly writes: KindSummary;
  readonly loadAverage1m: number;
}

export interface SoakReport {
  readonly benchmark: 'soak';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly options: Omit<SoakOptions, 'outDir'>;
  readonly intervals: SoakInterval[];
  /** RSS change from the end of warm-up to the end, in percent. */
  readonly rssGrowthPercent: number;
  /** Write p50 of the last interval over the first after warm-up. */
  readonly writeP50Ratio: number;
  readonly files?: { json: string; md: string };
}

/** The mix: 60% reads, 40% writes (progress most, as readers report it constantly). */
const MIX: ReadonlyArray<[weight: number, kind: ReadKind | WriteKind]> = [
  [20, 'books'],
  [15, 'book'],
  [15, 'shelf'],
  [10, 'myHighlights'],
  [20, 'progress'],
  [10, 'highlight'],
  [10, 'note'],
];
const WRITES = new Set<string>(['progress', 'highlight', 'note']);

function pickKind(): ReadKind | WriteKind {
  let r = Math.random() * 100;
  for (const [weight, kind] of MIX) if ((r -= weight) < 0) return kind;
  return 'books';
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const intervalMs = options.intervalMs ?? 60_000;
  await using platform = await startTestPlatform({ env: { ...BENCH_ENV } });
  const gateway = platform.gateway;
  const library = await seedLibrary(gateway, options.users);

  const intervals: SoakInterval[] = [];
  let current: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  const end = started + options.minutes * intervalMs;
  const gap = 1000 / options.rate;
  let sent = 0;
  let nextReport = started + intervalMs;

  while (intervals.length < options.minutes) {
    const now = performance.now();
    // Fixed rate: every request due by now is sent, timed from when it was due.
    while (started + sent * gap <= now && started + sent * gap < end) {
      const due = started + sent * gap;
      sent++;
      const kind = pickKind();
      const user = library.users[sent % library.users.length]!;
      const request = WRITES.has(kind) ? () => write(gateway, library, user, kind as WriteKind) : () => read(gateway, library, user, kind as ReadKind);
      const p = timed(kind, request, due).then((s) => void current.push(s));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    if (now >= nextReport) {
      const samples = current;
      current = [];
      const memory = process.memoryUsage();
      intervals.push({
        minute: intervals.length + 1,
        rssMiB: round(memory.rss / 1024 / 1024),
        heapUsedMiB: round(memory.heapUsed / 1024 / 1024),
        dataDirMiB: round((await directoryBytes(platform.dataDir)) / 1024 / 1024),
        reads: summarize(samples.filter((s) => !WRITES.has(s.kind))),
        writes: summarize(samples.filter((s) => WRITES.has(s.kind))),
        loadAverage1m: round(loadavg()[0]!),
      });
      const last = intervals.at(-1)!;
      console.log(`minute ${last.minute}: rss ${last.rssMiB} MiB, heap ${last.heapUsedMiB} MiB, data ${last.dataDirMiB} MiB, reads p50/p99 ${last.reads.p50Ms}/${last.reads.p99Ms} ms, writes p50/p99 ${last.writes.p50Ms}/${last.writes.p99Ms} ms, errors ${JSON.stringify({ ...last.reads.errorCodes, ...last.writes.errorCodes })}, load ${last.loadAverage1m}`);
      nextReport += intervalMs;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(started + sent * gap, nextReport) - performance.now())));
  }
  await Promise.all(inflight);

  const afterWarmup = intervals.slice(Math.min(options.warmupMinutes, Math.max(0, intervals.length - 1)));
  const first = afterWarmup[0];
  const last = intervals.at(-1);
  const report: SoakReport = {
    benchmark: 'soak',
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    options: { minutes: options.minutes, rate: options.rate, users: options.users, warmupMinutes: options.warmupMinutes, intervalMs },
    intervals,
    rssGrowthPercent: first && last ? round(((last.rssMiB - first.rssMiB) / first.rssMiB) * 100) : 0,
    writeP50Ratio: first && last && first.writes.p50Ms > 0 ? round((last.writes.p50Ms / first.writes.p50Ms) * 100) / 100 : 0,
  };
  if (!options.outDir) return report;

  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `soak-${stamp}.json`);
  const md = join(options.outDir, `soak-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const markdown = `# Soak benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs. ${options.minutes} intervals of ${intervalMs / 1000} s at ${options.rate} requests/s
through the gateway, ${options.users} readers, mix ${MIX.map(([w, k]) => `${k} ${w}%`).join(', ')}; embedded store.
Latency from each request's scheduled send time. RSS is the whole process (platform and load generator).
After ${options.warmupMinutes} warm-up interval(s): RSS growth **${report.rssGrowthPercent}%**, write p50 last/first **${report.writeP50Ratio}×**.

| interval | RSS MiB | heap MiB | data dir MiB | reads | read p50 ms | read p99 ms | writes | write p50 ms | write p99 ms | errors | load 1m |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${intervals.map((i) => `| ${i.minute} | ${i.rssMiB} | ${i.heapUsedMiB} | ${i.dataDirMiB} | ${i.reads.count} | ${i.reads.p50Ms} | ${i.reads.p99Ms} | ${i.writes.count} | ${i.writes.p50Ms} | ${i.writes.p99Ms} | ${i.reads.errors + i.writes.errors} | ${i.loadAverage1m} |`).join('\n')}
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '40' },
      users: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '2' },
    },
  });
  const report = await runSoak({
    minutes: Number(values.minutes),
    rate: Number(values.rate),
    users: Number(values.users),
    warmupMinutes: Number(values.warmup),
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
  console.log(`RSS growth after warm-up ${report.rssGrowthPercent}%, write p50 ratio ${report.writeP50Ratio}; written: ${report.files?.md}`);
}
