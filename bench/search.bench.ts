/**
 * `npm run bench:search`: the same search query through the gateway and straight to the search
 * subgraph (signed identity), SEMANTIC and HYBRID, on the whole platform with the demo books
 * published. Complements bench:vectors (the 1M-vector ANN numbers): this row is the end-to-end
 * cost a client sees (gateway auth + planning + search + catalog's readable check + entity
 * resolution). Writes bench/results/search-<time>.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ANONYMOUS } from '../lib/identity.js';
import { signRequest } from '../lib/signing.js';
import { demoBooks } from '../subgraphs/catalog/demo/index.js';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser } from '../test/kit/accounts.js';
import { createPublishedBook } from '../test/kit/catalog.js';
import { startTestPlatform } from '../test/kit/platform.js';
import { SEARCH, waitForIndexed } from '../test/kit/search.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const QUERIES = { en: 'lighthouse keeper in the fog', zh: '陆羽 茶经 煮水' } as const;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(send: () => Promise<Response>): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < 20; i++) await (await send()).text();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    const response = await send();
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`query failed: ${JSON.stringify(body.errors)}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 100) / 100;
  return { p50: round(percentile(times, 50)), p99: round(percentile(times, 99)), mean: round(times.reduce((s, t) => s + t, 0) / times.length) };
}

async function main(): Promise<void> {
  // The bench is one client making many requests: lift the per-user and per-address limits.
  const platform = await startTestPlatform({ env: { FOLIO_GATEWAY_RATE_LIMIT_USER: '1000000/60', FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '1000000/60' } });
  try {
    const editor = await registerEditor(platform.gateway);
    const reader = await registerUser(platform.gateway);
    const ids: string[] = [];
    for (const book of demoBooks) {
      const { bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub(book), { title: book.title, authors: [...book.authors], language: book.language });
      ids.push(bookId);
    }
    for (const id of ids) await waitForIndexed(platform.gateway, editor.token, id);
    const searchUrl = platform.services.search!.url;
    const caller = { ...ANONYMOUS, userId: reader.id, roles: ['READER' as const] };
    const rows: Array<Record<string, unknown>> = [];
    for (const [lang, query] of Object.entries(QUERIES)) {
      for (const mode of ['SEMANTIC', 'HYBRID']) {
        const body = JSON.stringify({ query: SEARCH, variables: { query, mode, first: 10 } });
        const gateway = await measure(() => fetch(platform.gateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reader.token}` }, body }));
        const signed = () => signRequest(platform.config.internalSecret, { audience: 'search', method: 'POST', pathAndQuery: new URL(searchUrl).pathname, body }, caller);
        const subgraph = await measure(() => fetch(searchUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...signed() }, body }));
        rows.push({ lang, mode, query, gateway, subgraph });
        console.log(`${lang} ${mode}: gateway p50 ${gateway.p50} ms p99 ${gateway.p99} ms | subgraph p50 ${subgraph.p50} ms p99 ${subgraph.p99} ms`);
      }
    }
    const result = { bench: 'search', at: new Date().toISOString(), iterations: ITERATIONS, books: ids.length, node: process.version, rows };
    const stamp = result.at.replace(/[:.]/g, '-');
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL(`./results/search-${stamp}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `# search through the gateway (${result.at})`,
      '',
      `${ids.length} demo books, ${ITERATIONS} sequential requests per row, single client, first: 10, Node ${process.version}.`,
      'Gateway = auth + query plan + search subgraph + catalog readable check + entity resolution; subgraph = search alone (still one readable call to catalog).',
      '',
      '| query | mode | gateway p50 | gateway p99 | subgraph p50 | subgraph p99 |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows.map((r: any) => `| ${r.query} | ${r.mode} | ${r.gateway.p50} ms | ${r.gateway.p99} ms | ${r.subgraph.p50} ms | ${r.subgraph.p99} ms |`),
      '',
    ].join('\n');
    writeFileSync(new URL(`./results/search-${stamp}.md`, import.meta.url), md);
  } finally {
    await platform.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
