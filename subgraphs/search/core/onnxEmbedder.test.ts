import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../../lib/config.js';
import { writeTinyModel, type TinyModelSpec } from '../../../test/kit/tinyOnnxModel.js';
import { createEmbedder, LocalHashEmbedder, OpenAIEmbedder, type Embedder } from './embedder.js';
import { OnnxEmbedder } from './onnxEmbedder.js';
import { withPrefixes } from './prefixes.js';

// A tiny model the test builds (no real weights can be downloaded here): every token's row is
// known, so expected vectors are computed by hand. The [PAD] row is far from zero, so pooling
// that counted padding would show.
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'tea', 'green', 'black', 'star', 'night', 'sky', 'query', 'passage', ':', '茶', '星'];
const DIM = 4;
const ROWS: number[][] = [
  [9, 9, 9, 9], // [PAD]
  [0, 0, 0.5, 0], // [UNK]
  [0.1, 0, 0, 0], // [CLS]
  [0, 0.1, 0, 0], // [SEP]
  [1, 0, 0, 0], // tea
  [1, 1, 0, 0], // green
  [1, -1, 0, 0], // black
  [0, 0, 1, 0], // star
  [0, 0, 1, 1], // night
  [0, 0, 0, 1], // sky
  [0, 2, 0, 0], // query
  [0, 0, 0, 2], // passage
  [0, 0, -1, 0], // :
  [2, 0, 0, 0], // 茶
  [0, 0, 2, 0], // 星
];
const TYPE0 = [0, 0, 0, 0.25];

const root = mkdtempSync(join(tmpdir(), 'folio-onnx-'));
let dirs = 0;
const model = (spec: Partial<TinyModelSpec> = {}): string => writeTinyModel(join(root, `m${dirs++}`), { vocab: VOCAB, embeddings: ROWS, typeEmbedding: TYPE0, ...spec });
const open: Embedder[] = [];
const onnx = (options: Partial<ConstructorParameters<typeof OnnxEmbedder>[0]> & { dir: string }): OnnxEmbedder => {
  const embedder = new OnnxEmbedder({ workerThread: false, ...options });
  open.push(embedder);
  return embedder;
};
afterAll(async () => {
  await Promise.all(open.map((e) => e.close?.()));
  rmSync(root, { recursive: true, force: true });
});

/** Mean of the rows of `tokens` (+ the segment-0 row), L2-normalised: what the embedder must return. */
function expected(tokens: readonly string[], typeRow: readonly number[] = TYPE0): number[] {
  const sum = new Array<number>(DIM).fill(0);
  for (const token of tokens) ROWS[VOCAB.indexOf(token)]!.forEach((v, d) => (sum[d]! += v + typeRow[d]!));
  const mean = sum.map((v) => v / tokens.length);
  const norm = Math.hypot(...mean);
  return mean.map((v) => v / norm);
}
const near = (actual: Float32Array | undefined, want: readonly number[]): void => {
  expect(actual).toBeDefined();
  expect(actual!.length).toBe(want.length);
  actual!.forEach((v, d) => expect(v).toBeCloseTo(want[d]!, 5));
};

describe('OnnxEmbedder (a model directory: ONNX graph, tokenizer.json, config.json)', () => {
  const dir = model();

  it('tokenizes with the directory tokenizer, mean-pools the hidden states and L2-normalises', async () => {
    const embedder = onnx({ dir });
    expect(embedder.dimension).toBe(DIM);
    const [a, b, c] = await embedder.embed(['Green tea', 'night sky 星', 'coffee']);
    near(a, expected(['[CLS]', 'green', 'tea', '[SEP]']));
    near(b, expected(['[CLS]', 'night', 'sky', '星', '[SEP]']));
    near(c, expected(['[CLS]', '[UNK]', '[SEP]']));
    for (const v of [a!, b!, c!]) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  it('leaves padding out of the mean: a short text scores the same alone and beside a long one', async () => {
    const embedder = onnx({ dir });
    const [alone] = await embedder.embed(['tea']);
    const [short, long] = await embedder.embed(['tea', 'green tea black tea night sky star']);
    near(short, Array.from(alone!));
    near(long, expected(['[CLS]', 'green', 'tea', 'black', 'tea', 'night', 'sky', 'star', '[SEP]']));
    // What pooling over the padded row would give instead (the [PAD] row is [9, 9, 9, 9]).
    const padded = expected(['[CLS]', 'tea', '[SEP]', '[PAD]', '[PAD]', '[PAD]', '[PAD]', '[PAD]', '[PAD]']);
    expect(Math.abs(short![1]! - padded[1]!)).toBeGreaterThan(0.1);
  });

  it('runs batches of batchSize, sorted by length, and returns vectors in input order', async () => {
    const embedder = onnx({ dir, batchSize: 2 });
    const texts = ['tea', 'green tea black tea', 'star', 'night sky', '茶 星 tea'];
    const before = embedder.batches;
    const together = await embedder.embed(texts);
    expect(embedder.batches - before).toBe(3);
    for (let i = 0; i < texts.length; i++) near(together[i], Array.from((await embedder.embed([texts[i]!]))[0]!));
    expect(await embedder.embed([])).toEqual([]);
  });

  it('cuts texts to the model length from config.json, keeping [CLS] and [SEP]', async () => {
    const embedder = onnx({ dir: model({ maxPositions: 5 }) });
    expect(embedder.maxTokens).toBe(5);
    const [cut, prefix] = await embedder.embed(['green tea black tea night sky star', 'green tea black']);
    near(cut, expected(['[CLS]', 'green', 'tea', 'black', '[SEP]']));
    near(prefix, Array.from(cut!));
    // A smaller cut asked for by the caller wins; a larger one is held to the model's.
    expect(onnx({ dir: model({ maxPositions: 5 }), maxTokens: 4 }).maxTokens).toBe(4);
    expect(onnx({ dir: model({ maxPositions: 5 }), maxTokens: 4096 }).maxTokens).toBe(5);
  });

  it('feeds only the inputs the graph declares (no token_type_ids) and finds model.onnx at the top level', async () => {
    const embedder = onnx({ dir: model({ tokenTypes: false, modelPath: 'model.onnx' }) });
    const [v] = await embedder.embed(['star night']);
    near(v, expected(['[CLS]', 'star', 'night', '[SEP]'], [0, 0, 0, 0]));
  });

  it('names the model, a hash of its files and settings, and the dimension in its id', () => {
    const embedder = onnx({ dir });
    expect(embedder.id).toMatch(/^onnx:folio\/tiny-test-model:[0-9a-f]{12}:4$/);
    // The same files elsewhere: the same id (moving a model does not force a reindex).
    const copy = join(root, 'copy');
    cpSync(dir, copy, { recursive: true });
    expect(onnx({ dir: copy }).id).toBe(embedder.id);
    // Other weights, another cut or another passage prefix: stored vectors differ, so does the id.
    expect(onnx({ dir: model({ embeddings: ROWS.map((r, i) => (i === 4 ? [1, 0, 0, 0.001] : r)) }) }).id).not.toBe(embedder.id);
    expect(onnx({ dir, maxTokens: 64 }).id).not.toBe(embedder.id);
    expect(onnx({ dir, passagePrefix: 'passage: ' }).id).not.toBe(embedder.id);
    // The query prefix changes no stored vector.
    expect(onnx({ dir, queryPrefix: 'query: ' }).id).toBe(embedder.id);
  });

  it('puts the query prefix before queries and the passage prefix before passages', async () => {
    const plain = onnx({ dir });
    const e5 = onnx({ dir, queryPrefix: 'query: ', passagePrefix: 'passage: ' });
    const [asQuery] = await e5.embedQuery(['green tea']);
    const [asPassage] = await e5.embed(['green tea']);
    near(asQuery, Array.from((await plain.embed(['query: green tea']))[0]!));
    near(asPassage, Array.from((await plain.embed(['passage: green tea']))[0]!));
    near(asQuery, expected(['[CLS]', 'query', ':', 'green', 'tea', '[SEP]']));
  });

  it('computes a waiting query before waiting passage batches', async () => {
    const embedder = onnx({ dir, batchSize: 1 });
    await embedder.embed(['tea']); // loaded
    const start = embedder.batches;
    const passages = embedder.embed(Array.from({ length: 20 }, (_, i) => `tea ${'green '.repeat(i)}`));
    let batchesBeforeQuery = -1;
    const query = embedder.embedQuery(['night sky']).then(() => (batchesBeforeQuery = embedder.batches - start));
    await Promise.all([passages, query]);
    // Batches started by the time the query's answer is read: the passage batch already running
    // when it arrived, the query's own, and the next passage batch (started as the query ended).
    // Without priority it would be all 21.
    expect(batchesBeforeQuery).toBeLessThanOrEqual(3);
    expect(embedder.batches - start).toBe(21);
  });

  it('runs the model on a worker thread with the same results, and stops it on close', async () => {
    const inline = onnx({ dir });
    const threaded = new OnnxEmbedder({ dir, workerThread: true, intraOpThreads: 1 });
    try {
      const texts = ['green tea', '茶 星', 'night sky star'];
      const [a, b] = [await inline.embed(texts), await threaded.embed(texts)];
      texts.forEach((_, i) => near(b[i], Array.from(a[i]!)));
      near((await threaded.embedQuery(['tea']))[0], expected(['[CLS]', 'tea', '[SEP]']));
    } finally {
      await threaded.close();
    }
    await expect(threaded.embed(['tea'])).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  }, 60_000);

  it('refuses a directory without a model, tokenizer or config, saying what is missing', () => {
    const broken = model();
    rmSync(join(broken, 'tokenizer.json'));
    expect(() => onnx({ dir: broken })).toThrow(/has no tokenizer\.json/);
    const noGraph = model();
    rmSync(join(noGraph, 'onnx'), { recursive: true });
    expect(() => onnx({ dir: noGraph })).toThrow(/has no ONNX model \(looked for model\.onnx, onnx\/model\.onnx\)/);
    const badConfig = model();
    writeFileSync(join(badConfig, 'config.json'), '{"model_type":"bert"}');
    expect(() => onnx({ dir: badConfig })).toThrow(/no usable hidden_size/);
    expect(() => onnx({ dir: join(root, 'nowhere') })).toThrow(/does not exist/);
  });

  it('fails a batch with SERVICE_UNAVAILABLE when the graph does not load, and tries again later', async () => {
    const dirBad = model();
    const graph = join(dirBad, 'onnx/model.onnx');
    const good = readFileSync(graph);
    writeFileSync(graph, 'not a model');
    const embedder = onnx({ dir: dirBad });
    // Clients see only SERVICE_UNAVAILABLE; the cause, for the logs, says what went wrong.
    await expect(embedder.embed(['tea'])).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', cause: { message: expect.stringMatching(/^embedding model onnx:.*(protobuf|parse|model)/i) } });
    writeFileSync(graph, good);
    // The id was taken from the broken bytes, so this is a new embedder's model: same key, retried.
    const [v] = await embedder.embed(['tea']);
    near(v, expected(['[CLS]', 'tea', '[SEP]']));
  });
});

describe('configuration (FOLIO_EMBEDDINGS_MODEL_DIR)', () => {
  const dir = model();

  it('creates the in-process embedder, with the minimum similarity and prefixes from the environment', async () => {
    const config = testConfig({ FOLIO_EMBEDDINGS_MODEL_DIR: dir, FOLIO_EMBEDDINGS_MIN_SIMILARITY: '0.8', FOLIO_EMBEDDINGS_QUERY_PREFIX: 'query: ', FOLIO_WORKER_THREADS: '0' });
    const embedder = createEmbedder(config);
    open.push(embedder);
    expect(embedder).toBeInstanceOf(OnnxEmbedder);
    expect(embedder.minSimilarity).toBe(0.8);
    near((await embedder.embedQuery!(['tea']))[0], expected(['[CLS]', 'query', ':', 'tea', '[SEP]']));
    // Without it, the zero-setup default.
    expect(createEmbedder(testConfig())).toBeInstanceOf(LocalHashEmbedder);
  });

  it('refuses FOLIO_EMBEDDINGS_URL with FOLIO_EMBEDDINGS_MODEL_DIR, a missing directory, and prefixes with the default embedder', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        testConfig(env);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return [...(error as ConfigError).problems];
      }
    };
    expect(problems({ FOLIO_EMBEDDINGS_MODEL_DIR: dir, FOLIO_EMBEDDINGS_URL: 'http://127.0.0.1:8080', FOLIO_EMBEDDINGS_MODEL: 'e5' })).toEqual([
      expect.stringMatching(/^FOLIO_EMBEDDINGS_MODEL_DIR: set it or FOLIO_EMBEDDINGS_URL, not both/),
    ]);
    expect(problems({ FOLIO_EMBEDDINGS_MODEL_DIR: join(root, 'missing') })).toEqual([expect.stringMatching(/^FOLIO_EMBEDDINGS_MODEL_DIR: .*missing is not a directory$/)]);
    expect(problems({ FOLIO_EMBEDDINGS_PASSAGE_PREFIX: 'passage: ' })).toEqual([expect.stringMatching(/only with FOLIO_EMBEDDINGS_URL or FOLIO_EMBEDDINGS_MODEL_DIR/)]);
  });

  it('applies prefixes to an HTTP embedder too, the passage prefix changing its id', async () => {
    const seen: string[][] = [];
    const fake: Embedder = {
      id: 'openai:e5:4',
      dimension: 4,
      minSimilarity: 0,
      embed: async (texts) => {
        seen.push(texts);
        return texts.map(() => Float32Array.from([1, 0, 0, 0]));
      },
    };
    const prefixed = withPrefixes(fake, { query: 'query: ', passage: 'passage: ' });
    await prefixed.embed(['a chapter']);
    await prefixed.embedQuery!(['a question']);
    expect(seen).toEqual([['passage: a chapter'], ['query: a question']]);
    expect(prefixed.id).toMatch(/^openai:e5:4\|passage:[0-9a-f]{8}$/);
    expect(withPrefixes(fake, { query: 'query: ', passage: '' }).id).toBe('openai:e5:4');
    const http = createEmbedder(testConfig({ FOLIO_EMBEDDINGS_URL: 'http://127.0.0.1:9', FOLIO_EMBEDDINGS_MODEL: 'e5', FOLIO_EMBEDDINGS_QUERY_PREFIX: 'query: ' }));
    expect(http.embedQuery).toBeTypeOf('function');
    expect(createEmbedder(testConfig({ FOLIO_EMBEDDINGS_URL: 'http://127.0.0.1:9', FOLIO_EMBEDDINGS_MODEL: 'e5' }))).toBeInstanceOf(OpenAIEmbedder);
  });
});
