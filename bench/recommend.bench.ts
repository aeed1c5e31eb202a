/**
 * Recommendations, measured (issue 16):
 * 1. Offline evaluation (bench/recommendEval.ts): the demo library plus a synthetic one of 8
 *    genres, a population of readers with genre preferences; each reader's last finished book is
 *    held out and looked for in their top 10. Hit-rate@10 and catalogue coverage for content-only,
 *    co-reading-only and blended recommendations against a popularity baseline, in a dense
 *    population (many readers per book) and a sparse one.
 * 2. Latency of `me.recommendations` through the gateway for a reader with 200 books on the shelf
 *    (50 finished, reading time on 20), among other readers who give co-reading; goal p99 ≤ 30 ms.
 *    Warm (the reader asked before: their ranked list and catalog's readable answers are reused
 *    for a few seconds) and cold (each of `--cold-readers` readers with 200 books asks once)
 *    are reported apart, so a cache can never hide the first request's cost. The warm requests
 *    alternate with the `me.shelf` baseline, so both see the same machine.
 *
 * Run: npm run bench:recommend [-- --books 230 --requests 400 --cold-readers 20 --skip-eval --skip-latency]
 * Writes bench/results/recommend-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ANONYMOUS } from '../lib/identity.js';
import { registerEditor, registerUser, type TestUser } from '../test/kit/accounts.js';
import { eventually, graphql, mustQuery, startTestPlatform, type GraphQLResponse, type TestPlatform } from '../test/kit/platform.js';
import { createGenreBook, GENRE_WORDS, myRecommendations, SIMILAR_BOOKS } from '../test/kit/recommendations.js';
import { ADD_TO_SHELF, UPDATE_PROGRESS } from '../test/kit/ugc.js';
import { runOfflineEval, type EvalReport } from './recommendEval.js';
import { BENCH_ENV, round, summarize, timed, type KindSummary, type Sample } from './support.js';

export interface LatencyResult {
  readonly books: number;
  readonly readerBooks: number;
  readonly otherReaders: number;
  readonly setupSeconds: number;
  /** Items in the heavy reader's first page (10 unless the library ran out). */
  readonly itemsReturned: number;
  /** Warm: the heavy reader again and again (after 30 warm-up requests). */
  readonly recommendations: KindSummary;
  /** Cold: the first request of each cold reader (200 books each, nothing of theirs cached). */
  readonly recommendationsCold: KindSummary;
  readonly similarBooks: KindSummary;
  /** The same recommendations asked of the search subgraph directly (no gateway, no catalog titles). */
  readonly searchOnly: KindSummary;
  /** `me { shelf(first: 10) { … book { id title } } }` through the gateway: the same hops without recommendations. */
  readonly shelfBaseline: KindSummary;
  /** 1-minute load average when measuring started and when it ended (the machine is shared). */
  readonly loadAverage1m: { readonly start: number; readonly end: number };
}

export interface RecommendReport {
  readonly benchmark: 'recommend';
  readonly at: string;
  readonly node: string;
  readonly cpus: number;
  readonly offline: { dense: EvalReport; sparse: EvalReport; verySparse: EvalReport } | null;
  readonly latency: LatencyResult | null;
  readonly files?: { json: string; md: string };
}

const UPDATE_SHELF = /* GraphQL */ `mutation Finish($bookId: ID!) { updateShelfEntry(bookId: $bookId, input: { finished: true }) { id finished } }`;
const SEARCH_ONLY = /* GraphQL */ `
  query($r: [_Any!]!) { _entities(representations: $r) { ... on User { recommendations(first: 10) { edges { node { score book { id } reason { source text basedOn { id } } } } } } } }
`;
const SHELF_BASELINE = /* GraphQL */ `query { me { shelf(first: 10) { edges { node { book { id title } } } } } }`;
const FOR_YOU = /* GraphQL */ `
  query ForYou { me { recommendations(first: 10) { edges { node { score book { id title } reason { source text basedOn { id title } } } } } } }
`;

/** Runs `tasks` with at most `n` at a time. */
async function pool<T>(n: number, items: readonly T[], task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  }));
}

export interface RecommendPopulation {
  readonly gateway: string;
  readonly bookIds: readonly string[];
  /** The reader measured: `readerBooks` books on the shelf. */
  readonly heavy: TestUser;
  /** Readers with the same `readerBooks` books, kept as secret entries (their own data only; cheap for the feed): each asks once, cold. */
  readonly coldReaders: readonly TestUser[];
  readonly readerBooks: number;
  readonly otherReaders: number;
}

/**
 * Publishes `books` genre books and shelves them: the heavy reader's `readerBooks` (mostly two
 * genres, 50 finished, reading time on 20), `otherReaders` readers of 25 books of one genre each
 * (so co-reading pairs pass k). Returns once ugc's feed has been handled up to the last shelf add.
 */
export async function seedRecommendPopulation(platform: TestPlatform, options: { books: number; readerBooks: number; otherReaders: number; coldReaders: number }): Promise<RecommendPopulation> {
  const started = performance.now();
  const gw = platform.gateway;
  const editor = await registerEditor(gw);
  const genres = Object.keys(GENRE_WORDS);
  const bookIds: string[] = new Array(options.books);
  await pool(3, Array.from({ length: options.books }, (_, i) => i), async (i) => {
    const genre = genres[i % genres.length]!;
    bookIds[i] = await createGenreBook(gw, editor.token, { title: `${genre} book ${i}`, author: `${genre} author ${i % 17}`, genre, seed: i });
  });
  console.log(`${options.books} books published in ${round((performance.now() - started) / 1000)} s`);
  const [heavy, sentinel, ...others] = (await Promise.all(Array.from({ length: options.otherReaders + 2 }, () => registerUser(gw)))) as [TestUser, TestUser, ...TestUser[]];
  const coldReaders = await Promise.all(Array.from({ length: options.coldReaders }, () => registerUser(gw)));
  const shelve = (user: TestUser, bookId: string, secret = false) => mustQuery(gw, ADD_TO_SHELF, { bookId, secret }, { token: user.token });
  const mine = bookIds.filter((_, i) => i % genres.length < 2).concat(bookIds.filter((_, i) => i % genres.length >= 2)).slice(0, options.readerBooks);
  await pool(4, mine, async (id) => void (await shelve(heavy, id)));
  await pool(4, mine.slice(0, 50), async (id) => void (await mustQuery(gw, UPDATE_SHELF, { bookId: id }, { token: heavy.token })));
  await pool(4, mine.slice(0, 20), async (id) =>
    void (await mustQuery(gw, UPDATE_PROGRESS, { bookId: id, input: { offset: 0, percent: 50, clientTime: new Date().toISOString(), deviceId: 'bench', secondsRead: 600 } }, { token: heavy.token })),
  );
  await pool(4, others, async (user, u) => {
    const genre = u % genres.length;
    const theirs = bookIds.filter((_, i) => i % genres.length === genre).slice(u % 5, (u % 5) + 25);
    for (const id of theirs) await shelve(user, id);
  });
  await pool(4, coldReaders.flatMap((user) => mine.map((id) => [user, id] as const)), async ([user, id]) => void (await shelve(user, id, true)));
  // ugc's feed is ordered: once the sentinel's shelf shows in its recommendations, everything before it was handled.
  await shelve(sentinel, bookIds[0]!);
  await eventually(async () => (await myRecommendations(gw, sentinel.token)).recommendations.personalised, { timeoutMs: 300_000, intervalMs: 500 });
  return { gateway: gw, bookIds, heavy, coldReaders, readerBooks: mine.length, otherReaders: others.length };
}

export async function runLatency(options: { books: number; readerBooks: number; otherReaders: number; coldReaders: number; requests: number }): Promise<LatencyResult> {
  const started = performance.now();
  // The editor polls upload jobs and the reader sends hundreds of requests a minute: the per-user limit is lifted too.
  await using platform = await startTestPlatform({ env: { ...BENCH_ENV, FOLIO_GATEWAY_RATE_LIMIT_USER: '1000000/60' } });
  const { gateway: gw, bookIds, heavy, coldReaders, readerBooks, otherReaders } = await seedRecommendPopulation(platform, options);
  const setupSeconds = round((performance.now() - started) / 1000);
  console.log(`population ready in ${setupSeconds} s`);
  const loadAtStart = round(loadavg()[0]!);

  const forYou = (user: TestUser) => () => graphql(gw, FOR_YOU, {}, { token: user.token });
  // Cold first, before anything of these readers was asked: one request each. One request by the
  // heavy reader before, so the gateway's query plan (cached per document) is not counted as cold.
  await forYou(heavy)();
  const cold: Sample[] = [];
  for (const user of coldReaders) cold.push(await timed('me.recommendations cold', forYou(user)));
  const recommendationsCold = summarize(cold);

  /** Sequential requests after 30 warm-up ones; with `baseline`, each one is followed by a baseline request. */
  const measure = async (kind: string, request: () => Promise<GraphQLResponse>, baseline?: { kind: string; request: () => Promise<GraphQLResponse> }) => {
    for (let i = 0; i < 30; i++) await Promise.all([request(), baseline?.request()]);
    const samples: Sample[] = [];
    const base: Sample[] = [];
    for (let i = 0; i < options.requests; i++) {
      samples.push(await timed(kind, request));
      if (baseline) base.push(await timed(baseline.kind, baseline.request));
    }
    return { summary: summarize(samples), baseline: summarize(base) };
  };
  const warm = await measure('me.recommendations', forYou(heavy), { kind: 'me.shelf baseline', request: () => graphql(gw, SHELF_BASELINE, {}, { token: heavy.token }) });
  const check = await graphql<{ me: { recommendations: { edges: unknown[] } } }>(gw, FOR_YOU, {}, { token: heavy.token });
  const itemsReturned = check.data?.me.recommendations.edges.length ?? 0;
  const similarBooks = (await measure('Book.similarBooks', () => graphql(gw, SIMILAR_BOOKS, { id: bookIds[0], first: 10 }, { token: heavy.token }))).summary;
  // Where the time goes: the search subgraph alone (signed as the gateway signs); the shelf
  // baseline above is a query of the same shape (accounts → ugc → catalog titles).
  const caller = { ...ANONYMOUS, userId: heavy.id, roles: ['READER' as const] };
  const searchOnly = (
    await measure('search subgraph only', () =>
      graphql(platform.services.search!.url, SEARCH_ONLY, { r: [{ __typename: 'User', id: heavy.id }] }, { signAs: { secret: platform.config.internalSecret, audience: 'search', caller } }),
    )
  ).summary;
  return {
    books: options.books,
    readerBooks,
    otherReaders,
    setupSeconds,
    itemsReturned,
    recommendations: warm.summary,
    recommendationsCold,
    similarBooks,
    searchOnly,
    shelfBaseline: warm.baseline,
    loadAverage1m: { start: loadAtStart, end: round(loadavg()[0]!) },
  };
}

export async function runRecommendBench(options: { books: number; requests: number; coldReaders: number; latency: boolean; offline: boolean; readers: number; outDir?: string }): Promise<RecommendReport> {
  const common = { booksPerGenre: 30, seed: 7, k: 3, secretShare: 0.1 };
  let offline: RecommendReport['offline'] = null;
  if (options.offline) {
    const dense = await runOfflineEval({ ...common, readers: options.readers });
    console.log('dense', JSON.stringify(dense.methods));
    const sparse = await runOfflineEval({ ...common, readers: Math.max(50, Math.round(options.readers / 10)) });
    console.log('sparse', JSON.stringify(sparse.methods));
    // Few readers per book: co-reading pairs rarely reach k, which is where content has to carry the list.
    const verySparse = await runOfflineEval({ ...common, readers: Math.max(30, Math.round(options.readers / 25)) });
    console.log('very sparse', JSON.stringify(verySparse.methods));
    offline = { dense, sparse, verySparse };
  }
  const latency = options.latency ? await runLatency({ books: options.books, readerBooks: 200, otherReaders: 24, coldReaders: options.coldReaders, requests: options.requests }) : null;
  const report: RecommendReport = { benchmark: 'recommend', at: new Date().toISOString(), node: process.version, cpus: availableParallelism(), offline, latency };
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  const json = join(options.outDir, `recommend-${stamp}.json`);
  const md = join(options.outDir, `recommend-${stamp}.md`);
  await mkdir(options.outDir, { recursive: true });
  const table = (r: EvalReport): string =>
    [`| method | hit-rate@10 | coverage |`, `| --- | ---: | ---: |`, ...r.methods.map((m) => `| ${m.method} | ${m.hitRateAt10} | ${m.coverage} |`)].join('\n');
  const lat = (name: string, s: KindSummary): string => `| ${name} | ${s.count} | ${s.errors} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} |`;
  const offlineSection = (o: NonNullable<RecommendReport['offline']>): string => {
    const { dense, sparse, verySparse } = o;
    return `## Offline evaluation

Library: the 6 demo books + 8 synthetic genres × ${common.booksPerGenre} books (${dense.books} books; prose of the
synthetic generator with each genre's words woven in; 6 authors per genre). Readers: a main genre (70% of their books),
a second genre (20%), anything (10%); within a genre books by Zipf popularity; 4 + Exp(10) books each (≤ 40);
${common.secretShare * 100}% of shelf entries secret (never counted for others). Each reader's last finished book is held out;
co-reading is built from everyone's remaining public shelf entries with k = ${common.k}; every list is capped at two books
per author, as the service does; the reader's other books are excluded. Coverage: distinct books in anyone's top 10 / books.

Dense: ${dense.readers} readers (${dense.meanBooksPerReader} books each on average), ${dense.ms} ms.

${table(dense)}

Sparse: ${sparse.readers} readers (${sparse.meanBooksPerReader} books each), ${sparse.ms} ms.

${table(sparse)}

Very sparse: ${verySparse.readers} readers (${verySparse.meanBooksPerReader} books each), ${verySparse.ms} ms: co-reading pairs rarely reach k.

${table(verySparse)}`;
  };
  const markdown = `# Recommendations benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs.

${report.offline ? offlineSection(report.offline) : '## Offline evaluation\n\nSkipped (--skip-eval).'}

## Latency through the gateway

${
  latency
    ? `${latency.books} published books; one reader with ${latency.readerBooks} books on the shelf (50 finished, reading time on 20), ${latency.otherReaders}
other readers with 25 books each; embedded store; setup ${latency.setupSeconds} s; load average (1 min) ${latency.loadAverage1m.start} when measuring
started, ${latency.loadAverage1m.end} at the end (${report.cpus} CPUs); ${latency.itemsReturned} items per answer. \`me { recommendations(first: 10) { … book { id title } reason { … basedOn { id title } } } }\`
(catalog resolves the books). Goal: p99 ≤ 30 ms. Warm: the same reader, sequential requests after 30 warm-up ones, each followed
by the \`me.shelf\` baseline (so both rows saw the same machine); the reader's ranked list and catalog's readable answers are
reused for up to 5 s. Cold: the first request of each of ${latency.recommendationsCold.count} other readers with the same ${latency.readerBooks} books (nothing of theirs cached).

| query | requests | errors | p50 ms | p99 ms | max ms |
| --- | ---: | ---: | ---: | ---: | ---: |
${lat('me.recommendations (200 books), warm', latency.recommendations)}
${lat('me.recommendations (200 books), cold: first request per reader', latency.recommendationsCold)}
${lat('Book.similarBooks', latency.similarBooks)}
${lat('search subgraph only (me.recommendations part)', latency.searchOnly)}
${lat('baseline: me.shelf(first: 10) with titles (alternating with warm)', latency.shelfBaseline)}`
    : 'Skipped (--skip-latency).'
}
`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdown);
  return { ...report, files: { json, md } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      books: { type: 'string', default: '230' },
      // ≥ 300 measured requests, so a p99 is not the single worst one.
      requests: { type: 'string', default: '400' },
      'cold-readers': { type: 'string', default: '20' },
      readers: { type: 'string', default: '2000' },
      'skip-latency': { type: 'boolean', default: false },
      'skip-eval': { type: 'boolean', default: false },
    },
  });
  const report = await runRecommendBench({
    books: Number(values.books),
    requests: Number(values.requests),
    coldReaders: Number(values['cold-readers']),
    readers: Number(values.readers),
    latency: !values['skip-latency'],
    offline: !values['skip-eval'],
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
  console.log(`written: ${report.files?.md}`);
}
