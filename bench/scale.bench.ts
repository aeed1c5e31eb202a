/**
 * Data at real scale (issue 14): generate a library of synthetic books (English and Chinese, the
 * generator bench:ingest/vectors/soak use), load it through the real pipeline of a running
 * platform (createBook → uploadBookContent → parse → store → publish → license → search indexes
 * it), then report ingest and index throughput, disk, the platform's peak RSS, start-up time on
 * that data, and p50/p99 through the gateway with N concurrent clients for: a page of `books`
 * (keyset, random depth), a chapter, keyword / semantic / hybrid search, a shelf of 100 books and
 * `ask`. Also what the embedded stores keep resident per book and per paragraph, the figure the
 * README's "Production shape" extrapolates from.
 *
 * The platform runs in a child process (bench/soakPlatform.ts: all services in one process, so
 * RSS is the platform's, not per service; the store figures are per database).
 *
 *   npm run bench:scale                       (BENCH_SCALE_BOOKS=10000: ~1,000,000 paragraphs)
 *   BENCH_SCALE_BOOKS=200 npm run bench:scale (what is committed from this machine)
 *   BENCH_SCALE_PARAGRAPHS (per book, default 100), BENCH_SCALE_CLIENTS (default 50),
 *   BENCH_SCALE_REQUESTS (per query kind, default 300), BENCH_SCALE_WARMUP (uncounted requests per
 *   kind first, default one per client), BENCH_SCALE_UPLOADS (in flight, default 4)
 *   BENCH_SCALE_REUSE=<data dir>: no loading: queries and start-up on a library an earlier run
 *   loaded (copy its data directory while it runs, e.g. `cp -al`; this run writes to it and keeps
 *   it), for iterating on query and start-up costs without an hour of loading first
 *
 * Writes bench/results/scale-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerEditor, registerUser } from '../test/kit/accounts.js';
import { createBook, PUBLISH_BOOK, SET_LICENSE, UPLOAD_JOB, uploadEpub, type UploadJobView } from '../test/kit/catalog.js';
import { graphql, mustQuery, tempDataDir } from '../test/kit/platform.js';
import { ADD_TO_SHELF } from '../test/kit/ugc.js';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { generateSyntheticBook } from '../subgraphs/catalog/demo/synthetic.js';
import type { PlatformMemory } from './soakPlatform.js';
import { BENCH_ENV, directoryBytes, round, summarize, timed, type KindSummary, type Sample } from './support.js';
import { startPlatformChild, type PlatformChild } from './platformChild.js';

export interface ScaleOptions {
  readonly books: number;
  readonly paragraphsPerBook: number;
  readonly chaptersPerBook?: number;
  /** Concurrent clients in the query phase. */
  readonly clients: number;
  /** Requests per query kind. */
  readonly requests: number;
  /**
   * Requests per kind sent first and not counted: the first round of N clients otherwise meets a
   * cold cache and cold code all at once, and its queue decides the p99 of a 300-request sample.
   */
  readonly warmup?: number;
  /** Uploads in flight while loading. */
  readonly uploads: number;
  /** A data directory an earlier run loaded: nothing is loaded, the library is what it holds. */
  readonly reuseDataDir?: string;
  readonly outDir?: string;
}

export interface ScaleReport {
  readonly benchmark: 'scale';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly options: ScaleOptions;
  readonly library: { books: number; chineseBooks: number; chapters: number; paragraphs: number; epubMiB: number };
  /** Null when the library was reused (BENCH_SCALE_REUSE). */
  readonly ingest: { seconds: number; booksPerSecond: number; paragraphsPerSecond: number; epubMiBPerSecond: number } | null;
  /** From the first upload until search reports every book INDEXED; null when reused. */
  readonly index: { secondsAfterIngest: number; totalSeconds: number; paragraphsPerSecond: number } | null;
  readonly disk: { dataDirMiB: number; byDatabase: Record<string, number>; bytesPerParagraph: number };
  readonly memory: {
    peakRssMiB: number;
    /** Platform heap after a full GC, empty (before loading; null when reused) and loaded: the difference is what the data keeps resident. */
    emptyHeapMiB: number | null;
    loadedHeapMiB: number;
    loadedRssMiB: number;
    residentBytesPerParagraph: number | null;
    residentBytesPerBook: number | null;
    storeDocuments: Record<string, number>;
  };
  /** Seconds from spawning the platform on the loaded data until it answers a query, and RSS then. */
  readonly startup: { seconds: number; rssMiB: number };
  readonly queries: Record<string, KindSummary & { readonly rps?: number }>;
  readonly loadAverage: { start: number[]; end: number[] };
  readonly files?: { json: string; md: string };
}

/**
 * One editor loads the library and one reader plays the N clients (one address): the per-user
 * rate limit and in-flight caps are lifted so they measure the platform, not the throttles.
 */
const SCALE_ENV = {
  ...BENCH_ENV,
  FOLIO_GATEWAY_RATE_LIMIT_USER: '1000000/60',
  FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: '1000',
  FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS: '1000',
  FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '1000',
};

/** The platform in its own process (bench/soakPlatform.ts) on `dataDir`, which it keeps. */
const startChild = (dataDir: string): Promise<PlatformChild> =>
  startPlatformChild('soakPlatform.ts', {
    execArgv: ['--expose-gc', '--max-old-space-size=16000'],
    env: { FOLIO_BENCH_PLATFORM_ENV: JSON.stringify(SCALE_ENV), FOLIO_BENCH_PLATFORM_DATA_DIR: dataDir },
  });

/** Progress of a run that can take an hour, on stderr (the report is what goes to stdout). */
const progress = (what: string): void => console.error(`[scale ${new Date().toISOString()}] ${what}`);

const MiB = (bytes: number): number => round(bytes / 1024 / 1024);

/** Runs `count` tasks with `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

const BOOKS_PAGE = /* GraphQL */ `query($after: String) { books(first: 20, after: $after) { edges { cursor node { id title authors } } pageInfo { hasNextPage endCursor } } }`;
const CHAPTER = /* GraphQL */ `query($id: ID!) { chapter(id: $id) { id title text paragraphs(first: 50) { edges { node { id startOffset endOffset } } } } }`;
const SEARCH = /* GraphQL */ `query($q: String!, $mode: SearchMode) { search(query: $q, mode: $mode, scope: FULL_TEXT, first: 10) { paragraphs { edges { node { snippet book { id title } paragraph { id } } } } } }`;
const SHELF = /* GraphQL */ `query { me { id shelf(first: 100, sort: ADDED) { totalCount edges { node { id book { id title } } } } } }`;
const ASK = /* GraphQL */ `query($q: String!) { ask(question: $q) { text method citations { quote } } }`;
const BOOK_IDS = /* GraphQL */ `query($after: String) { books(first: 100, after: $after) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }`;
const INDEX_STATE = /* GraphQL */ `query($id: ID!) { searchIndexStatus(bookId: $id) { state } }`;
const CHAPTER_IDS = /* GraphQL */ `query($id: ID!) { book(id: $id) { chapters { id } } }`;

/**
 * createBook → upload → wait for STORED → publish → license (what test/kit's createPublishedBook
 * does, with a wait that tolerates a queue of uploads on a loaded machine).
 */
async function publishBook(gateway: string, token: string, epub: Buffer, input: Record<string, unknown>): Promise<string> {
  const bookId = await createBook(gateway, token, input);
  const upload = await uploadEpub(gateway, token, bookId, epub);
  if (upload.errors?.length || !upload.data) throw new Error(`upload failed: ${JSON.stringify(upload.errors)}`);
  const deadline = performance.now() + 600_000;
  for (;;) {
    const { uploadJob } = await mustQuery<{ uploadJob: UploadJobView }>(gateway, UPLOAD_JOB, { id: upload.data.uploadBookContent.id }, { token });
    if (uploadJob.status === 'STORED') break;
    if (uploadJob.status === 'FAILED') throw new Error(`upload job failed: ${uploadJob.failureReason}`);
    if (performance.now() > deadline) throw new Error(`upload job still ${uploadJob.status} after 10 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await mustQuery(gateway, PUBLISH_BOOK, { id: bookId }, { token });
  await mustQuery(gateway, SET_LICENSE, { input: { bookId } }, { token });
  return bookId;
}

const EN_QUERIES = ['harbour light', 'the old map', 'quiet morning', 'letters', 'river', 'a storm at sea'];
const ZH_QUERIES = ['港口', '灯塔', '早晨', '河流'];
const ASK_QUESTIONS = ['what happened at the harbour?', 'who wrote the letters?', 'why did they leave the river?'];

export async function runScale(options: ScaleOptions): Promise<ScaleReport> {
  const loadStart = loadavg().map(round);
  const chaptersPerBook = options.chaptersPerBook ?? 5;
  const perChapter = Math.max(1, Math.round(options.paragraphsPerBook / chaptersPerBook));
  const reused = options.reuseDataDir !== undefined;
  const dataDir = options.reuseDataDir ?? tempDataDir();
  let peakRss = 0;
  let platform = await startChild(dataDir);
  const memory = (gc = false): Promise<PlatformMemory> => platform.request<PlatformMemory>({ type: 'memory', gc });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, (await memory().catch(() => ({ rss: 0 }) as PlatformMemory)).rss);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    const empty = reused ? null : await memory(true);
    const gateway = (): string => platform.gateway;
    const editor = await registerEditor(gateway());

    const bookIds: string[] = [];
    let published = 0;
    let epubBytes = 0;
    let chineseBooks = 0;
    let ingestSeconds = 0;
    let indexedSeconds = 0;
    // ---- load through the real pipeline --------------------------------------------------------
    async function load(): Promise<void> {
      const ingestStart = performance.now();
      await pool(options.books, options.uploads, async (i) => {
        const zh = i % 5 === 4; // one book in five in Chinese
        if (zh) chineseBooks++;
        const epub = await buildEpub(generateSyntheticBook({ chapters: chaptersPerBook, paragraphsPerChapter: perChapter, seed: 1000 + i, language: zh ? 'zh' : 'en' }));
        epubBytes += epub.length;
        const bookId = await publishBook(gateway(), editor.token, epub, { title: `${zh ? '规模' : 'Scale'} ${String(i).padStart(6, '0')}`, language: zh ? 'zh' : 'en' });
        bookIds[i] = bookId;
        if (++published % 500 === 0) progress(`${published} books published`);
      });
      ingestSeconds = (performance.now() - ingestStart) / 1000;
      // Search indexes in the background from catalog's events, roughly in publication order: wait
      // until every book is INDEXED, asking about the oldest pending few at a time (asking about all
      // of them every round would load the platform with thousands of status queries).
      const pending = [...bookIds];
      const deadline = performance.now() + Math.max(600_000, options.books * 5_000);
      let reported = 0;
      while (pending.length > 0) {
        if (performance.now() > deadline) throw new Error(`${pending.length} books not indexed in time`);
        const batch = pending.slice(0, 16);
        const states = await Promise.all(batch.map((id) => graphql<{ searchIndexStatus: { state: string } | null }>(gateway(), INDEX_STATE, { id }, { token: editor.token })));
        const indexed = new Set(batch.filter((_, j) => states[j]!.data?.searchIndexStatus?.state === 'INDEXED'));
        if (indexed.size === 0) await new Promise((r) => setTimeout(r, 250));
        else pending.splice(0, pending.length, ...pending.filter((id) => !indexed.has(id)));
        const done = bookIds.length - pending.length;
        if (done - reported >= 500) progress(`${(reported = done)} books indexed`);
      }
      indexedSeconds = (performance.now() - ingestStart) / 1000;
    }
    if (reused) {
      // ---- the library an earlier run loaded ---------------------------------------------------
      for (let after: string | null = null, more = true; more; ) {
        const page: { books: { edges: Array<{ node: { id: string; title: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await mustQuery(gateway(), BOOK_IDS, { after }, { token: editor.token });
        for (const { node } of page.books.edges) {
          bookIds.push(node.id);
          if (node.title.startsWith('规模')) chineseBooks++;
        }
        ({ hasNextPage: more, endCursor: after } = page.books.pageInfo);
      }
      progress(`${bookIds.length} books in the reused library`);
    } else await load();
    const books = bookIds.length;
    const paragraphs = books * chaptersPerBook * perChapter;

    // ---- what the data keeps resident ----------------------------------------------------------
    const loaded = await memory(true);
    const store = await platform.request<{ databases: Array<{ db: string; collections: Record<string, number> }> }>({ type: 'store' });
    const storeDocuments = Object.fromEntries(store.databases.flatMap((d) => Object.entries(d.collections).map(([c, n]) => [`${d.db}.${c}`, n] as const)));
    const byDatabase: Record<string, number> = {};
    const { readdir } = await import('node:fs/promises');
    for (const entry of await readdir(dataDir, { withFileTypes: true })) if (entry.isDirectory()) byDatabase[entry.name] = MiB(await directoryBytes(join(dataDir, entry.name)));
    const dataDirBytes = await directoryBytes(dataDir);

    // ---- queries through the gateway, N clients --------------------------------------------------
    const reader = await registerUser(gateway());
    const shelfBooks = bookIds.slice(0, Math.min(100, bookIds.length));
    for (const bookId of shelfBooks) await mustQuery(gateway(), ADD_TO_SHELF, { bookId }, { token: reader.token });
    // Cursors at random depths of the book list (walked once, then requested at random).
    const cursors: Array<string | null> = [null];
    for (let page = 0, after: string | null = null; page < 50; page++) {
      const data: { books: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await mustQuery(gateway(), BOOKS_PAGE, { after }, { token: reader.token });
      if (!data.books.pageInfo.hasNextPage || !data.books.pageInfo.endCursor) break;
      after = data.books.pageInfo.endCursor;
      cursors.push(after);
    }
    const chapterIds: string[] = [];
    for (const bookId of bookIds.filter((_, i) => i % Math.max(1, Math.floor(bookIds.length / 20)) === 0)) {
      const data = await mustQuery<{ book: { chapters: Array<{ id: string }> } }>(gateway(), CHAPTER_IDS, { id: bookId }, { token: reader.token });
      chapterIds.push(...data.book.chapters.map((c) => c.id));
    }
    const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;
    const kinds: Record<string, (i: number) => Promise<Sample>> = {
      'books page': (i) => timed('books page', () => graphql(gateway(), BOOKS_PAGE, { after: pick(cursors, i * 7) }, { token: reader.token })),
      chapter: (i) => timed('chapter', () => graphql(gateway(), CHAPTER, { id: pick(chapterIds, i * 13) }, { token: reader.token })),
      'search keyword': (i) => timed('search keyword', () => graphql(gateway(), SEARCH, { q: i % 4 === 3 ? pick(ZH_QUERIES, i) : pick(EN_QUERIES, i), mode: 'KEYWORD' }, { token: reader.token })),
      'search semantic': (i) => timed('search semantic', () => graphql(gateway(), SEARCH, { q: pick(EN_QUERIES, i), mode: 'SEMANTIC' }, { token: reader.token })),
      'search hybrid': (i) => timed('search hybrid', () => graphql(gateway(), SEARCH, { q: i % 4 === 3 ? pick(ZH_QUERIES, i) : pick(EN_QUERIES, i), mode: 'HYBRID' }, { token: reader.token })),
      'shelf of 100': () => timed('shelf of 100', () => graphql(gateway(), SHELF, {}, { token: reader.token })),
      ask: (i) => timed('ask', () => graphql(gateway(), ASK, { q: pick(ASK_QUESTIONS, i) }, { token: reader.token })),
    };
    const queries: Record<string, KindSummary & { rps: number }> = {};
    for (const [kind, run] of Object.entries(kinds)) {
      const samples: Sample[] = [];
      const warmup = options.warmup ?? options.clients;
      await pool(warmup, options.clients, async (i) => void (await run(options.requests + i)));
      const started = performance.now();
      await pool(options.requests, options.clients, async (i) => void samples.push(await run(i)));
      queries[kind] = { ...summarize(samples), rps: round(options.requests / ((performance.now() - started) / 1000)) };
      console.log(`${kind.padEnd(16)} p50 ${queries[kind].p50Ms} ms  p99 ${queries[kind].p99Ms} ms  ${queries[kind].rps} RPS  errors ${queries[kind].errors} ${JSON.stringify(queries[kind].errorCodes)}`);
    }

    // ---- start-up on that data -----------------------------------------------------------------
    sampling = false;
    await sampler;
    await platform.stop();
    const startupStart = performance.now();
    platform = await startChild(dataDir);
    await mustQuery(platform.gateway, BOOKS_PAGE, { after: null }, { token: reader.token });
    const startupSeconds = (performance.now() - startupStart) / 1000;
    const afterStart = await memory();

    const report: ScaleReport = {
      benchmark: 'scale',
      at: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      options,
      library: { books, chineseBooks, chapters: books * chaptersPerBook, paragraphs, epubMiB: MiB(epubBytes) },
      ingest: reused ? null : { seconds: round(ingestSeconds), booksPerSecond: round(books / ingestSeconds), paragraphsPerSecond: Math.round(paragraphs / ingestSeconds), epubMiBPerSecond: round(MiB(epubBytes) / ingestSeconds) },
      index: reused ? null : { secondsAfterIngest: round(indexedSeconds - ingestSeconds), totalSeconds: round(indexedSeconds), paragraphsPerSecond: Math.round(paragraphs / indexedSeconds) },
      disk: { dataDirMiB: MiB(dataDirBytes), byDatabase, bytesPerParagraph: Math.round(dataDirBytes / paragraphs) },
      memory: {
        peakRssMiB: MiB(peakRss),
        emptyHeapMiB: empty && MiB(empty.heapUsed),
        loadedHeapMiB: MiB(loaded.heapUsed),
        loadedRssMiB: MiB(loaded.rss),
        residentBytesPerParagraph: empty && Math.round((loaded.heapUsed + loaded.external - empty.heapUsed - empty.external) / paragraphs),
        residentBytesPerBook: empty && Math.round((loaded.heapUsed + loaded.external - empty.heapUsed - empty.external) / books),
        storeDocuments,
      },
      startup: { seconds: round(startupSeconds), rssMiB: MiB(afterStart.rss) },
      queries,
      loadAverage: { start: loadStart, end: loadavg().map(round) },
    };
    if (!options.outDir) return report;
    const stamp = report.at.replace(/[:.]/g, '-');
    const json = join(options.outDir, `scale-${stamp}.json`);
    const md = join(options.outDir, `scale-${stamp}.md`);
    await mkdir(options.outDir, { recursive: true });
    await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(md, markdown(report));
    return { ...report, files: { json, md } };
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await platform.stop().catch(() => undefined);
    const { rm } = await import('node:fs/promises');
    if (!reused) await rm(dataDir, { recursive: true, force: true });
  }
}

function markdown(r: ScaleReport): string {
  const q = Object.entries(r.queries);
  return `# Scale benchmark

${r.at}, Node ${r.node}, ${r.cpus} CPUs, **shared machine: load average ${r.loadAverage.start.join(' / ')} at the start, ${r.loadAverage.end.join(' / ')} at the end**
(latencies under that load are upper bounds). Embedded store, all services in one platform process.

Library: ${r.library.books} books (${r.library.chineseBooks} Chinese), ${r.library.chapters} chapters, ${r.library.paragraphs} paragraphs${r.ingest ? `, ${r.library.epubMiB} MiB of EPUB` : ''},
${r.ingest ? `loaded through the gateway (createBook → uploadBookContent → parse → store → publish → license), ${r.options.uploads} uploads in flight.` : `reused from an earlier run's data directory (BENCH_SCALE_REUSE; paragraphs counted at ${r.options.paragraphsPerBook} per book).`}

| what | value |
| --- | ---: |
| ingest (until every book published) | ${r.ingest ? `${r.ingest.seconds} s: ${r.ingest.booksPerSecond} books/s, ${r.ingest.paragraphsPerSecond} paragraphs/s, ${r.ingest.epubMiBPerSecond} MiB/s` : 'reused library: not loaded in this run'} |
| indexed for search (from the first upload) | ${r.index ? `${r.index.totalSeconds} s (${r.index.secondsAfterIngest} s after ingest): ${r.index.paragraphsPerSecond} paragraphs/s` : '–'} |
| data directory | ${r.disk.dataDirMiB} MiB (${r.disk.bytesPerParagraph} bytes per paragraph); ${Object.entries(r.disk.byDatabase).map(([k, v]) => `${k} ${v}`).join(', ')} |
| platform RSS, peak while loading and querying | ${r.memory.peakRssMiB} MiB |
| platform heap after GC, empty → loaded | ${r.memory.emptyHeapMiB ?? '–'} → ${r.memory.loadedHeapMiB} MiB (RSS loaded ${r.memory.loadedRssMiB} MiB) |
| resident per paragraph / per book (heap + external, loaded − empty) | ${r.memory.residentBytesPerParagraph ?? '–'} B / ${r.memory.residentBytesPerBook ?? '–'} B |
| start-up on that data (spawn → first answer) | ${r.startup.seconds} s, RSS ${r.startup.rssMiB} MiB |

Queries through the gateway, ${r.options.clients} concurrent clients (closed loop: each sends its next request when
its last is answered, so latency ≈ clients ÷ throughput once the platform is saturated), ${r.options.requests} requests per
kind after ${r.options.warmup ?? r.options.clients} uncounted warm-up requests:

| query | p50 ms | p99 ms | max ms | requests/s | errors |
| --- | ---: | ---: | ---: | ---: | ---: |
${q.map(([k, s]) => `| ${k} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} | ${s.rps ?? '–'} | ${s.errors}${s.errors ? ` ${JSON.stringify(s.errorCodes)}` : ''} |`).join('\n')}

Stored documents: ${JSON.stringify(r.memory.storeDocuments)}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const report = await runScale({
    books: n('BENCH_SCALE_BOOKS', 10_000),
    paragraphsPerBook: n('BENCH_SCALE_PARAGRAPHS', 100),
    clients: n('BENCH_SCALE_CLIENTS', 50),
    requests: n('BENCH_SCALE_REQUESTS', 300),
    warmup: n('BENCH_SCALE_WARMUP', n('BENCH_SCALE_CLIENTS', 50)),
    uploads: n('BENCH_SCALE_UPLOADS', 4),
    ...(process.env.BENCH_SCALE_REUSE ? { reuseDataDir: process.env.BENCH_SCALE_REUSE } : {}),
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
  console.log(`ingest ${report.ingest?.paragraphsPerSecond ?? '–'} paragraphs/s, indexed in ${report.index?.totalSeconds ?? '–'} s, start-up ${report.startup.seconds} s, peak RSS ${report.memory.peakRssMiB} MiB; written: ${report.files?.md}`);
}
