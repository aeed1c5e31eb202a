/**
 * Search quality: recall@10 and MRR of the evaluation set (bench/searchQuality/evalSet.ts:
 * English, Chinese and cross-language questions over the demo library) for each mode, with the
 * local hashing embedder and, when FOLIO_EMBEDDINGS_URL/FOLIO_EMBEDDINGS_MODEL are set, with that
 * model too, and when FOLIO_EMBEDDINGS_MODEL_DIR is set, with that in-process model too
 * (FOLIO_EMBEDDINGS_MIN_SIMILARITY and the prefix variables apply to both). Run: npm run bench:search-quality. Writes bench/results/search-quality-<time>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVAL_SET } from './searchQuality/evalSet.js';
import { evaluateSearch, MODES, type QualityReport } from './searchQuality/harness.js';

// Each configured model runs too, with the variables that shape its vectors and its floor.
const passThrough = (names: readonly string[]): Record<string, string> => Object.fromEntries(names.flatMap((n) => (process.env[n] ? [[n, process.env[n]!]] : [])));
const shared = ['FOLIO_EMBEDDINGS_MIN_SIMILARITY', 'FOLIO_EMBEDDINGS_QUERY_PREFIX', 'FOLIO_EMBEDDINGS_PASSAGE_PREFIX'];
const http = process.env.FOLIO_EMBEDDINGS_URL && process.env.FOLIO_EMBEDDINGS_MODEL;
const local = process.env.FOLIO_EMBEDDINGS_MODEL_DIR;
const configured = Boolean(http || local);
const runs: Array<Record<string, string>> = [
  {},
  ...(http ? [passThrough(['FOLIO_EMBEDDINGS_URL', 'FOLIO_EMBEDDINGS_MODEL', 'FOLIO_EMBEDDINGS_API_KEY', ...shared])] : []),
  ...(local ? [passThrough(['FOLIO_EMBEDDINGS_MODEL_DIR', ...shared])] : []),
];
const reports: QualityReport[] = [];
for (const env of runs) reports.push(await evaluateSearch(env));

const pct = (n: number): string => `${(n * 100).toFixed(0)}%`;
const rows = reports.flatMap((report) =>
  MODES.map((mode) => {
    const s = report.modes[mode];
    return `| ${report.embedder} | ${mode} | ${pct(s.all.recallAt10)} | ${s.all.mrr.toFixed(2)} | ${pct(s.en.recallAt10)} / ${s.en.mrr.toFixed(2)} | ${pct(s.zh.recallAt10)} / ${s.zh.mrr.toFixed(2)} | ${pct(s.cross.recallAt10)} / ${s.cross.mrr.toFixed(2)} |`;
  }),
);
const at = new Date().toISOString();
const markdown = `# Search quality

${at}, Node ${process.version}. ${EVAL_SET.length} questions over the six demo books (${EVAL_SET.filter((c) => c.category === 'en').length} English, ${EVAL_SET.filter((c) => c.category === 'zh').length} Chinese, ${EVAL_SET.filter((c) => c.category === 'cross').length} across languages), through the search service's GraphQL API.
recall@10: the answering paragraph is among the first ten hits; MRR: mean of 1/rank (0 past ten).
${configured ? '' : 'Only the default local embedder ran: set FOLIO_EMBEDDINGS_URL and FOLIO_EMBEDDINGS_MODEL (e.g. text-embeddings-inference with intfloat/multilingual-e5-small, as docker-compose.yml runs it) or FOLIO_EMBEDDINGS_MODEL_DIR (an ONNX export of such a model) to add a real model.\n'}${reports.some((r) => r.embedder.startsWith('folio/tiny-test-model')) ? '**folio/tiny-test-model is the tiny test model** (bench/searchQuality/tinyModel.ts: random word vectors over the demo library\'s words, no meaning). Its rows prove the in-process path runs end to end; they say nothing about a real model\'s quality.\n' : ''}
| embedder | mode | recall@10 | MRR | English r@10 / MRR | Chinese | cross-language |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${reports
  .map(
    (report) => `Per question with ${report.embedder} (rank of the answer, – past ten):

| question | category | ${MODES.join(' | ')} |
| --- | --- | ${MODES.map(() => '---:').join(' | ')} |
${report.ranks.map((r) => `| ${r.query} | ${r.category} | ${MODES.map((m) => r[m] ?? '–').join(' | ')} |`).join('\n')}
`,
  )
  .join('\n')}`;
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
await mkdir(outDir, { recursive: true });
const stamp = at.replace(/[:.]/g, '-');
await writeFile(join(outDir, `search-quality-${stamp}.json`), `${JSON.stringify({ benchmark: 'search-quality', at, reports }, null, 2)}\n`);
await writeFile(join(outDir, `search-quality-${stamp}.md`), markdown);
console.log(markdown);
