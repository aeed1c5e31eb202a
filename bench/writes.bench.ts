/**
 * End-to-end write throughput through the gateway on the embedded store (with its group commit):
 * progress updates/s, notes/s and highlights/s with `users` concurrent readers, each one request
 * at a time and never faster than its per-user rate limit allows, and the p99 of each.
 *
 * Run: npm run bench:writes [-- --users 50 --seconds 20]
 * Writes bench/results/writes-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../test/kit/platform.js';
import { BENCH_ENV, round, seedLibrary, summarize, timed, write, type KindSummary, type Sample, type WriteKind } from './support.js';

export interface WritesOptions {
  readonly users: number;
  /** Seconds of load per kind. */
  readonly seconds: number;
  readonly outDir?: string;
}

export interface KindResult extends KindSummary {
  readonly kind: WriteKind;
  readonly perSecond: number;
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

export async function runWritesBench(options: WritesOptions): Promise<WritesReport> {
  await using platform = await startTestPlatform({ env: { ...BENCH_ENV } });
  const gateway = platform.gateway;
  const library = await seedLibrary(gateway, options.users);
  const { points, durationSeconds } = platform.config.gateway.rateLimitUser;
  // 90% of the per-user limit: a reader never hits it, so every sample is a real write.
  const minGapMs = (durationSeconds * 1000) / (points * 0.9);

  const results: KindResult[] = [];
  for (const kind of KINDS) {
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
    results.push({ kind, ...summarize(samples), perSecond: round(ok / elapsed), loadAverage1m: round(loadavg()[0]!) });
    console.log(`${kind}: ${results.at(-1)!.perSecond}/s, p50 ${results.at(-1)!.p50Ms} ms, p99 ${results.at(-1)!.p99Ms} ms, errors ${results.at(-1)!.errors}`);
  }

  const report: WritesReport = {
    benchmark: 'writes',
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    users: options.users,
    seconds: options.seconds,
    userRateLimit: `${points}/${durationSeconds}s`,
    results,
  };
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `writes-${stamp}.json`);
  const md = join(options.outDir, `writes-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const markdown = `# Write throughput benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs. ${options.users} concurrent readers through the gateway, embedded store
(group commit), ${options.seconds} s per kind; each reader sends one request at a time and stays under its per-user limit
(${report.userRateLimit}). Writes/s counts successful writes; latency is per request.

| write | per second | requests | errors | p50 ms | p99 ms | max ms | load 1m |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${results.map((r) => `| ${r.kind} | ${r.perSecond} | ${r.count} | ${r.errors} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.loadAverage1m} |`).join('\n')}
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' } } });
  const report = await runWritesBench({ users: Number(values.users), seconds: Number(values.seconds), outDir: join(dirname(fileURLToPath(import.meta.url)), 'results') });
  console.log(`written: ${report.files?.md}`);
}
