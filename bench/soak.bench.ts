/**
 * Soak: mixed reads and writes through the gateway at a fixed rate for a long time, reporting per
 * interval (a minute) the PLATFORM process's RSS and heap (before and after a forced full GC, so
 * retained memory is told apart from garbage), the data directory's size, p50/p99 of reads and
 * writes, errors and the machine's load average. Goal (issue 17): flat p50 and under 5% RSS growth
 * after warm-up.
 *
 * The platform runs in a child process (bench/soakPlatform.ts) and answers memory questions over
 * IPC; this process only generates load, so its own samples and sockets are not counted.
 *
 * Steady state (default): the embedded store keeps every document in memory by design, so a write
 * mix that only adds documents grows RSS with the data. The soak's mix is steady instead: each
 * reader keeps its newest `keepPerUser` notes and highlights, deleting the oldest as it creates a
 * new one (progress updates overwrite), and the outbox keeps a short window (retention compressed
 * to minutes, FOLIO_OUTBOX_RETENTION_HOURS) so that it too reaches its steady size within the run.
 * `--growing` restores the add-only mix.
 *
 * Run: npm run bench:soak [-- --minutes 30 --rate 40 --users 20 --warmup 2 --heap-snapshots 2,6 --cpu-profiles 2,6]
 * (FOLIO_SOAK_MINUTES sets the default length; --short runs 3 intervals of 5 s as a smoke test).
 * Writes bench/results/soak-<timestamp>.json and .md; heap snapshots and CPU profiles, when asked for, go to
 * bench/results/heap/ (not committed: they are large).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PlatformMemory } from './soakPlatform.js';
import { graphql } from '../test/kit/platform.js';
import { BENCH_ENV, directoryBytes, read, round, seedLibrary, summarize, timed, write, type KindSummary, type ReadKind, type Sample, type WriteKind } from './support.js';
import { startPlatformChild } from './platformChild.js';

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
  /** Force a full GC in the platform before each interval's second memory reading. @default true */
  readonly gc?: boolean;
  /** Intervals after which the platform writes a heap snapshot (into `heapSnapshotDir`). */
  readonly heapSnapshotsAt?: readonly number[];
  readonly heapSnapshotDir?: string;
  /** Intervals during which the platform records a CPU profile (into `heapSnapshotDir`). */
  readonly cpuProfilesAt?: readonly number[];
  /**
   * Most requests outstanding at once; a request due while this many are still open is not sent
   * and counted as `skipped` (an open-loop generator without a cap turns one stall into an
   * ever-growing queue in both processes). @default 200
   */
  readonly maxInFlight?: number;
  /** Extra environment for the platform (e.g. a smaller journal compaction threshold). */
  readonly env?: Record<string, string>;
  /**
   * Notes and highlights each reader keeps: creating one more deletes its oldest (a steady-state
   * store). 0: never delete (the store grows with every note and highlight). @default 10
   */
  readonly keepPerUser?: number;
}

export interface SoakInterval {
  readonly minute: number;
  /** The platform process's RSS at the end of the interval (before the forced GC). */
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  /** After a forced full GC: what the platform really retains. */
  readonly rssAfterGcMiB: number;
  readonly heapAfterGcMiB: number;
  readonly externalMiB: number;
  readonly dataDirMiB: number;
  /** The data directory by top-level entry (each service's database, the object store): who grows. */
  readonly dataDirByEntryMiB: Record<string, number>;
  /** Documents in the embedded store (all databases), and per `db.collection` for those that changed. */
  readonly storeDocuments: number;
  readonly storeCollections: Record<string, number>;
  /** Requests not sent because maxInFlight were still open. */
  readonly skipped: number;
  readonly reads: KindSummary;
  readonly writes: KindSummary;
  readonly loadAverage1m: number;
}

export interface SoakReport {
  readonly benchmark: 'soak';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly options: Pick<SoakOptions, 'minutes' | 'rate' | 'users' | 'warmupMinutes' | 'intervalMs' | 'gc' | 'keepPerUser'>;
  readonly intervals: SoakInterval[];
  /** Platform RSS change from the end of warm-up to the end, in percent. */
  readonly rssGrowthPercent: number;
  /** Platform heap after GC, same span: the retained part of the growth. */
  readonly retainedHeapGrowthPercent: number;
  /** Write p50 of the last interval over the first after warm-up. */
  readonly writeP50Ratio: number;
  readonly readP50Ratio: number;
  readonly errors: number;
  readonly skipped: number;
  /**
   * Growth per 1,000 documents added to the store over the same span: the embedded store keeps
   * every document in memory, so growth that tracks this is data, growth beyond it is a leak.
   */
  readonly perThousandStoredDocs: { readonly rssMiB: number; readonly heapAfterGcMiB: number; readonly documents: number };
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
const WRITES = new Set<string>(['progress', 'highlight', 'note', 'deleteHighlight', 'deleteNote']);

/** Outbox retention during a steady soak: minutes, not a week, so the outbox levels off within the run. */
export const SOAK_OUTBOX_RETENTION_HOURS = '0.05';

function pickKind(): ReadKind | WriteKind {
  let r = Math.random() * 100;
  for (const [weight, kind] of MIX) if ((r -= weight) < 0) return kind;
  return 'books';
}

const MiB = (bytes: number): number => round(bytes / 1024 / 1024);
const DELETE_NOTE = /* GraphQL */ `mutation DeleteNote($id: ID!) { deleteNote(id: $id) }`;
const DELETE_HIGHLIGHT = /* GraphQL */ `mutation DeleteHighlight($id: ID!) { deleteHighlight(id: $id) }`;

async function bytesByEntry(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) out[entry.name] = MiB(await directoryBytes(join(dir, entry.name)));
  }
  return out;
}
function perThousandDocs(first: SoakInterval | undefined, last: SoakInterval | undefined): SoakReport['perThousandStoredDocs'] {
  const documents = first && last ? last.storeDocuments - first.storeDocuments : 0;
  if (!first || !last || documents <= 0) return { rssMiB: 0, heapAfterGcMiB: 0, documents };
  const per = (from: number, to: number): number => Math.round(((to - from) / documents) * 1000 * 100) / 100;
  return { rssMiB: per(first.rssMiB, last.rssMiB), heapAfterGcMiB: per(first.heapAfterGcMiB, last.heapAfterGcMiB), documents };
}

const growth = (from: number, to: number): number => (from > 0 ? round(((to - from) / from) * 100) : 0);
const ratio = (from: number, to: number): number => (from > 0 ? Math.round((to / from) * 100) / 100 : 0);


export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const intervalMs = options.intervalMs ?? 60_000;
  const gc = options.gc ?? true;
  const keep = options.keepPerUser ?? 10;
  const env = { ...BENCH_ENV, ...(keep > 0 ? { FOLIO_OUTBOX_RETENTION_HOURS: SOAK_OUTBOX_RETENTION_HOURS } : {}), ...options.env };
  // The platform in its own process (bench/soakPlatform.ts), with --expose-gc.
  await using platform = await startPlatformChild('soakPlatform.ts', { execArgv: ['--expose-gc'], env: { FOLIO_BENCH_PLATFORM_ENV: JSON.stringify(env) } });
  const gateway = platform.gateway;
  const dataDir = platform.dataDir;
  if (!dataDir) throw new Error('the soak platform did not say where its data is');
  const library = await seedLibrary(gateway, options.users);
  // Per reader and kind, the ids it created, oldest first (steady state: see the header).
  const owned = new Map<string, string[]>();
  const deleteOldest = (token: string, kind: 'note' | 'highlight', id: string, due: number): Promise<void> => {
    const key = `${token}:${kind}`;
    const ids = owned.get(key) ?? [];
    owned.set(key, ids);
    ids.push(id);
    if (ids.length <= keep) return Promise.resolve();
    const oldest = ids.shift()!;
    const mutation = kind === 'note' ? DELETE_NOTE : DELETE_HIGHLIGHT;
    const kindName = kind === 'note' ? 'deleteNote' : 'deleteHighlight';
    return timed(kindName, () => graphql(gateway, mutation, { id: oldest }, { token }), due).then((s) => void current.push(s));
  };
  if (options.heapSnapshotsAt?.length || options.cpuProfilesAt?.length) await mkdir(options.heapSnapshotDir ?? '.', { recursive: true });
  const profiled = (minute: number): boolean => options.cpuProfilesAt?.includes(minute) ?? false;
  if (profiled(1)) await platform.request({ type: 'cpu-profile', action: 'start' });

  const intervals: SoakInterval[] = [];
  let current: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  const end = started + options.minutes * intervalMs;
  const gap = 1000 / options.rate;
  let sent = 0;
  let skipped = 0;
  const maxInFlight = options.maxInFlight ?? 200;
  let nextReport = started + intervalMs;

  while (intervals.length < options.minutes) {
    const now = performance.now();
    // Fixed rate: every request due by now is sent, timed from when it was due.
    while (started + sent * gap <= now && started + sent * gap < end) {
      const due = started + sent * gap;
      sent++;
      if (inflight.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const kind = pickKind();
      const user = library.users[sent % library.users.length]!;
      let created: string | undefined;
      const request = WRITES.has(kind)
        ? async () => {
            const r = await write(gateway, library, user, kind as WriteKind);
            created = (r.data?.createNote?.id ?? r.data?.createHighlight?.id) as string | undefined;
            return r;
          }
        : () => read(gateway, library, user, kind as ReadKind);
      const p = timed(kind, request, due).then(async (s) => {
        current.push(s);
        if (keep > 0 && created && (kind === 'note' || kind === 'highlight')) await deleteOldest(user.token, kind, created, performance.now());
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    if (now >= nextReport) {
      const samples = current;
      current = [];
      const skippedNow = skipped;
      skipped = 0;
      const minute = intervals.length + 1;
      const live = await platform.request<PlatformMemory>({ type: 'memory' });
      const store = await platform.request<{ databases: Array<{ db: string; collections: Record<string, number> }> }>({ type: 'store' });
      const storeCollections = Object.fromEntries(store.databases.flatMap((d) => Object.entries(d.collections).map(([c, n]) => [`${d.db}.${c}`, n] as const)));
      const retained = gc ? await platform.request<PlatformMemory>({ type: 'memory', gc: true }) : live;
      if (options.heapSnapshotsAt?.includes(minute)) {
        await platform.request({ type: 'heap-snapshot', path: join(options.heapSnapshotDir ?? '.', `soak-minute-${minute}.heapsnapshot`) });
      }
      if (profiled(minute)) await platform.request({ type: 'cpu-profile', action: 'stop', path: join(options.heapSnapshotDir ?? '.', `soak-minute-${minute}.cpuprofile`) });
      if (profiled(minute + 1)) await platform.request({ type: 'cpu-profile', action: 'start' });
      intervals.push({
        minute,
        rssMiB: MiB(live.rss),
        heapUsedMiB: MiB(live.heapUsed),
        rssAfterGcMiB: MiB(retained.rss),
        heapAfterGcMiB: MiB(retained.heapUsed),
        externalMiB: MiB(retained.external),
        dataDirMiB: MiB(await directoryBytes(dataDir)),
        dataDirByEntryMiB: await bytesByEntry(dataDir),
        storeDocuments: Object.values(storeCollections).reduce((a, b) => a + b, 0),
        storeCollections,
        skipped: skippedNow,
        reads: summarize(samples.filter((s) => !WRITES.has(s.kind))),
        writes: summarize(samples.filter((s) => WRITES.has(s.kind))),
        loadAverage1m: round(loadavg()[0]!),
      });
      const last = intervals.at(-1)!;
      console.log(
        `interval ${last.minute}: rss ${last.rssMiB} MiB (after gc ${last.rssAfterGcMiB}), heap ${last.heapUsedMiB} MiB (after gc ${last.heapAfterGcMiB}), data ${last.dataDirMiB} MiB, ` +
          `docs ${last.storeDocuments}, skipped ${last.skipped}, reads p50/p99 ${last.reads.p50Ms}/${last.reads.p99Ms} ms, writes p50/p99 ${last.writes.p50Ms}/${last.writes.p99Ms} ms, errors ${JSON.stringify({ ...last.reads.errorCodes, ...last.writes.errorCodes })}, load ${last.loadAverage1m}`,
      );
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
    options: { minutes: options.minutes, rate: options.rate, users: options.users, warmupMinutes: options.warmupMinutes, intervalMs, gc, keepPerUser: keep },
    intervals,
    rssGrowthPercent: first && last ? growth(first.rssMiB, last.rssMiB) : 0,
    retainedHeapGrowthPercent: first && last ? growth(first.heapAfterGcMiB, last.heapAfterGcMiB) : 0,
    writeP50Ratio: first && last ? ratio(first.writes.p50Ms, last.writes.p50Ms) : 0,
    readP50Ratio: first && last ? ratio(first.reads.p50Ms, last.reads.p50Ms) : 0,
    errors: intervals.reduce((n, i) => n + i.reads.errors + i.writes.errors, 0),
    skipped: intervals.reduce((n, i) => n + i.skipped, 0),
    perThousandStoredDocs: perThousandDocs(first, last),
  };
  if (!options.outDir) return report;

  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `soak-${stamp}.json`);
  const md = join(options.outDir, `soak-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const markdown = `# Soak benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs (shared machine: see the load average column). ${options.minutes} intervals of ${intervalMs / 1000} s at ${options.rate} requests/s
through the gateway, ${options.users} readers, mix ${MIX.map(([w, k]) => `${k} ${w}%`).join(', ')}; embedded store.
${keep > 0 ? `Steady state: each reader keeps its newest ${keep} notes and highlights (creating one deletes its oldest; the deletes count as writes), and the outbox keeps ${Number(SOAK_OUTBOX_RETENTION_HOURS) * 60} minutes of events (FOLIO_OUTBOX_RETENTION_HOURS=${SOAK_OUTBOX_RETENTION_HOURS}, pruned every minute).` : 'Add-only mix (--growing): every note and highlight stays.'}
The platform runs in its own process; memory is that process's alone${gc ? ', read at the end of each interval before and after a forced full GC' : ''}.
Latency is measured from each request's scheduled send time.

After ${options.warmupMinutes} warm-up interval(s), first to last: RSS growth **${report.rssGrowthPercent}%**, retained heap (after GC) growth **${report.retainedHeapGrowthPercent}%**,
write p50 last/first **${report.writeP50Ratio}×**, read p50 last/first **${report.readP50Ratio}×**, errors **${report.errors}**, requests not sent (over ${maxInFlight} in flight) **${report.skipped}**.
Meanwhile the store gained ${report.perThousandStoredDocs.documents} documents: per 1,000 of them RSS grew ${report.perThousandStoredDocs.rssMiB} MiB and retained heap ${report.perThousandStoredDocs.heapAfterGcMiB} MiB
(the embedded store keeps every document in memory; growth in step with them is data, not a leak).

| interval | RSS MiB | RSS after GC | heap MiB | heap after GC | external MiB | data dir MiB | stored docs | skipped | reads | read p50 ms | read p99 ms | writes | write p50 ms | write p99 ms | errors | load 1m |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${intervals.map((i) => `| ${i.minute} | ${i.rssMiB} | ${i.rssAfterGcMiB} | ${i.heapUsedMiB} | ${i.heapAfterGcMiB} | ${i.externalMiB} | ${i.dataDirMiB} | ${i.storeDocuments} | ${i.skipped} | ${i.reads.count} | ${i.reads.p50Ms} | ${i.reads.p99Ms} | ${i.writes.count} | ${i.writes.p50Ms} | ${i.writes.p99Ms} | ${i.reads.errors + i.writes.errors} | ${i.loadAverage1m} |`).join('\n')}

Stored documents by collection, first and last interval: ${JSON.stringify(intervals[0]?.storeCollections ?? {})} → ${JSON.stringify(last?.storeCollections ?? {})}.

Data directory by entry (MiB), first and last interval: ${JSON.stringify(intervals[0]?.dataDirByEntryMiB ?? {})} → ${JSON.stringify(last?.dataDirByEntryMiB ?? {})}.
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: process.env.FOLIO_SOAK_MINUTES ?? '30' },
      rate: { type: 'string', default: '40' },
      users: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '2' },
      'heap-snapshots': { type: 'string', default: '' },
      'cpu-profiles': { type: 'string', default: '' },
      'no-gc': { type: 'boolean', default: false },
      'max-in-flight': { type: 'string', default: '200' },
      short: { type: 'boolean', default: false },
      growing: { type: 'boolean', default: false },
      keep: { type: 'string', default: '10' },
    },
  });
  const results = join(dirname(fileURLToPath(import.meta.url)), 'results');
  const report = await runSoak({
    minutes: values.short ? 3 : Number(values.minutes),
    intervalMs: values.short ? 5_000 : 60_000,
    rate: Number(values.rate),
    users: values.short ? 3 : Number(values.users),
    warmupMinutes: values.short ? 1 : Number(values.warmup),
    gc: !values['no-gc'],
    maxInFlight: Number(values['max-in-flight']),
    keepPerUser: values.growing ? 0 : Number(values.keep),
    heapSnapshotsAt: values['heap-snapshots'] ? values['heap-snapshots'].split(',').map(Number) : [],
    cpuProfilesAt: values['cpu-profiles'] ? values['cpu-profiles'].split(',').map(Number) : [],
    heapSnapshotDir: join(results, 'heap'),
    outDir: results,
  });
  console.log(`RSS growth after warm-up ${report.rssGrowthPercent}% (retained heap ${report.retainedHeapGrowthPercent}%), write p50 ratio ${report.writeP50Ratio}, errors ${report.errors}; written: ${report.files?.md}`);
}
