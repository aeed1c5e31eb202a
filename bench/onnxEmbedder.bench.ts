/**
 * The in-process embedder (FOLIO_EMBEDDINGS_MODEL_DIR) while indexing: how long the event loop
 * stalls and how long a query's embedding takes while 64 passages are being embedded, with the
 * model on the calling thread (FOLIO_WORKER_THREADS=0) and on its worker threads (the default).
 * No real model can be downloaded here, so the graph is a synthetic one with real work (a chain of
 * 384×384 MatMuls over 200-token passages, in the same input/output contract); set
 * FOLIO_EMBEDDINGS_MODEL_DIR to time a real model instead. Run: npm run bench:onnx.
 * Writes bench/results/onnx-embedder-<time>.json and .md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { OnnxEmbedder } from '../subgraphs/search/core/onnxEmbedder.js';
import { seededRandom, writeTinyModel } from '../test/kit/tinyOnnxModel.js';

const scratch = mkdtempSync(join(tmpdir(), 'folio-onnx-bench-'));
const real = process.env.FOLIO_EMBEDDINGS_MODEL_DIR;
const random = seededRandom(3);
const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
const dir =
  real ??
  writeTinyModel(join(scratch, 'model'), {
    vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...words],
    embeddings: Array.from({ length: 204 }, () => Array.from({ length: 384 }, () => random())),
    layers: 60,
    name: 'folio/synthetic-matmul-60',
  });
const passages = Array.from({ length: 64 }, (_, i) => Array.from({ length: 200 }, (_, j) => (real ? 'the keeper climbed the stair to the lamp' : words[(i * 7 + j) % 200]!)).join(' '));
const query = real ? 'how long was the keeper cut off during the storm' : 'w3 w4 w5';

const rows = [];
try {
  for (const workerThread of [false, true]) {
    const embedder = new OnnxEmbedder({ dir, workerThread, intraOpThreads: 1 });
    await embedder.embed(['warm up']);
    await embedder.embedQuery(['warm up']);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const indexing = embedder.embed(passages);
    const queryMs: number[] = [];
    while (performance.now() - started < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const t = performance.now();
      await embedder.embedQuery([query]);
      queryMs.push(performance.now() - t);
      if (await Promise.race([indexing.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))])) break;
    }
    await indexing;
    const totalMs = performance.now() - started;
    delay.disable();
    await embedder.close();
    queryMs.sort((a, b) => a - b);
    rows.push({
      mode: workerThread ? 'worker threads (default)' : 'calling thread (FOLIO_WORKER_THREADS=0)',
      passagesPerSecond: Math.round((passages.length / totalMs) * 1000 * 10) / 10,
      queries: queryMs.length,
      queryP50Ms: Math.round(queryMs[Math.floor(queryMs.length / 2)] ?? 0),
      queryMaxMs: Math.round(queryMs.at(-1) ?? 0),
      loopDelayP99Ms: Math.round(delay.percentile(99) / 1e6),
      loopDelayMaxMs: Math.round(delay.max / 1e6),
    });
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const at = new Date().toISOString();
const model = real ? `FOLIO_EMBEDDINGS_MODEL_DIR=${real}` : 'synthetic graph (60 × 384² MatMul, 200-token passages; no real model on this machine)';
const markdown = `# In-process embedder under indexing load

${at}, Node ${process.version}, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}. Model: ${model}. One intra-op thread per model.
64 passages embedded in batches of 8 while a query is embedded every 200 ms.

| mode | passages/s | queries | query p50 ms | query max ms | event-loop delay p99 ms | max ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.mode} | ${r.passagesPerSecond} | ${r.queries} | ${r.queryP50Ms} | ${r.queryMaxMs} | ${r.loopDelayP99Ms} | ${r.loopDelayMaxMs} |`).join('\n')}
`;
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
await mkdir(outDir, { recursive: true });
const stamp = at.replace(/[:.]/g, '-');
await writeFile(join(outDir, `onnx-embedder-${stamp}.json`), `${JSON.stringify({ benchmark: 'onnx-embedder', at, model, rows }, null, 2)}\n`);
await writeFile(join(outDir, `onnx-embedder-${stamp}.md`), markdown);
console.log(markdown);
