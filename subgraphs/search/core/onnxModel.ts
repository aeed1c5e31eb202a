/**
 * A sentence-embedding model from a local directory, as Hugging Face exports one: an ONNX graph
 * (`model.onnx` or `onnx/model.onnx`), `tokenizer.json` (+ `tokenizer_config.json`) and
 * `config.json`. Nothing is fetched: the tokenizer is built from the file's JSON
 * (@huggingface/tokenizers, pure JavaScript) and the graph runs in onnxruntime-node on the CPU.
 *
 * `describeModelDir` reads what the embedder's id needs (synchronously, at start-up);
 * `loadOnnxModel` builds tokenizer and session and embeds (wherever it is called: onnxruntime-node
 * runs a graph synchronously on the calling thread, so OnnxEmbedder calls it on a worker thread).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface ModelFiles {
  readonly model: string;
  readonly tokenizer: string;
  readonly tokenizerConfig: string | undefined;
  readonly config: string;
}

export interface ModelDescription {
  readonly files: ModelFiles;
  /** Hidden size (config.json `hidden_size`), the vector dimension. */
  readonly dimension: number;
  /** Tokens per text, special tokens included; longer texts are cut. */
  readonly maxTokens: number;
  /** A readable name: config.json `_name_or_path`, else `model_type`. */
  readonly label: string;
  /** sha256 of the model, its external data, tokenizer and config files. */
  readonly hash: string;
}

/** Where exporters put the graph, in order of preference. */
export const MODEL_FILE_CANDIDATES = ['model.onnx', 'onnx/model.onnx'] as const;

/** Above this, a config's model_max_length is a "no limit" sentinel (transformers writes 1e30). */
const MAX_TOKENS_CAP = 8192;

function readJson(path: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${what} (${path}) is not readable JSON: ${(error as Error).message}`);
  }
  throw new Error(`${what} (${path}) is not a JSON object`);
}

const positiveInt = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);

/** Files next to the graph that hold its external data (models over 2 GB, some exports always). */
function externalDataFiles(model: string): string[] {
  const name = basename(model);
  return readdirSync(dirname(model))
    .filter((f) => f !== name && (f.startsWith(`${name}_data`) || f.startsWith(`${name}.data`) || f.startsWith(`${name.replace(/\.onnx$/, '')}.onnx_data`)))
    .sort()
    .map((f) => join(dirname(model), f));
}

function hashFiles(paths: readonly string[]): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const path of paths) {
    hash.update(`${basename(path)}\0${statSync(path).size}\0`);
    const fd = openSync(path, 'r');
    try {
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest('hex');
}

/**
 * Finds and checks the files of a model directory and reads what identifies the model. Throws an
 * Error naming the directory and what is missing. Hashing reads every byte (about a second for a
 * 500 MB model), so that the same weights anywhere give the same id and other weights another.
 */
export function describeModelDir(dirInput: string, options: { modelFile?: string | undefined; maxTokens?: number | undefined } = {}): ModelDescription {
  const dir = resolve(dirInput);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`embedding model directory ${dir} does not exist`);
  const candidates = options.modelFile ? [options.modelFile] : MODEL_FILE_CANDIDATES;
  const modelName = candidates.find((c) => existsSync(join(dir, c)) && statSync(join(dir, c)).isFile());
  if (!modelName) throw new Error(`embedding model directory ${dir} has no ONNX model (looked for ${candidates.join(', ')})`);
  const model = join(dir, modelName);
  const need = (name: string): string => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`embedding model directory ${dir} has no ${name}`);
    return path;
  };
  const files: ModelFiles = {
    model,
    tokenizer: need('tokenizer.json'),
    tokenizerConfig: existsSync(join(dir, 'tokenizer_config.json')) ? join(dir, 'tokenizer_config.json') : undefined,
    config: need('config.json'),
  };
  const config = readJson(files.config, 'config.json');
  const tokenizerConfig = files.tokenizerConfig ? readJson(files.tokenizerConfig, 'tokenizer_config.json') : {};
  readJson(files.tokenizer, 'tokenizer.json');

  // distilbert calls it `dim`, t5-style encoders `d_model`.
  const dimension = positiveInt(config.hidden_size) ?? positiveInt(config.dim) ?? positiveInt(config.d_model);
  if (!dimension || dimension > 65_536) throw new Error(`config.json in ${dir} has no usable hidden_size`);
  // RoBERTa-family position ids start after the padding index: 514 positions hold 512 tokens.
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  const positions = positiveInt(config.max_position_embeddings);
  const fromPositions = positions === undefined ? undefined : /roberta|camembert/.test(modelType) ? positions - 2 : positions;
  const fromTokenizer = positiveInt(tokenizerConfig.model_max_length);
  const limits = [options.maxTokens, fromPositions, fromTokenizer !== undefined && fromTokenizer <= MAX_TOKENS_CAP ? fromTokenizer : undefined].filter((n): n is number => n !== undefined && n > 0);
  const maxTokens = Math.min(MAX_TOKENS_CAP, ...(limits.length > 0 ? limits : [512]));
  if (maxTokens < 3) throw new Error(`embedding model in ${dir}: at most ${maxTokens} tokens per text is too few`);

  const rawLabel = typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : modelType || 'model';
  const label = rawLabel.replace(/[^\w./-]+/g, '_').replace(/^.*\/(?=[^/]*\/[^/]*$)/, '').slice(-80);
  const hash = hashFiles([files.model, ...externalDataFiles(files.model), files.tokenizer, ...(files.tokenizerConfig ? [files.tokenizerConfig] : []), files.config]);
  return { files, dimension, maxTokens, label, hash };
}

export interface LoadOptions {
  readonly files: ModelFiles;
  readonly dimension: number;
  readonly maxTokens: number;
  /** onnxruntime's threads for one batch (0: its default, one per core). */
  readonly intraOpThreads: number;
}

export interface OnnxModel {
  /** Unit vectors of `texts`, one after another (`texts.length × dimension` floats), in order. */
  embed(texts: readonly string[]): Promise<Float32Array>;
  /** Graph runs so far (one per batch). */
  readonly runs: number;
}

/** Most characters tokenized per text: enough to fill `maxTokens` (tokens rarely average 24 characters). */
const CHARS_PER_TOKEN_BOUND = 24;

/** Builds tokenizer and inference session; throws if the graph lacks input_ids or its output has another width. */
export async function loadOnnxModel(options: LoadOptions): Promise<OnnxModel> {
  const [{ Tokenizer }, ort] = await Promise.all([import('@huggingface/tokenizers'), import('onnxruntime-node')]);
  const { files, dimension, maxTokens } = options;
  const tokenizer = new Tokenizer(readJson(files.tokenizer, 'tokenizer.json'), files.tokenizerConfig ? readJson(files.tokenizerConfig, 'tokenizer_config.json') : {});
  const session = await ort.InferenceSession.create(files.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
    interOpNumThreads: 1,
  });
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : undefined]));
  if (!inputs.has('input_ids')) throw new Error(`${files.model} has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
  for (const [name, type] of inputs) {
    if (!['input_ids', 'attention_mask', 'token_type_ids'].includes(name)) throw new Error(`${files.model} needs an input this embedder does not provide: ${name}`);
    if (type !== 'int64' && type !== 'int32') throw new Error(`${files.model}: input ${name} is ${type}, not int64 or int32`);
  }
  const output = ['last_hidden_state', 'token_embeddings'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!;

  // The special tokens the tokenizer puts before and after a text ([CLS] … [SEP], <s> … </s>),
  // so that truncation keeps them and cuts the text between.
  const probe = 'a';
  const withSpecial: number[] = tokenizer.encode(probe).ids;
  const plain: number[] = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const at = plain.length === 0 ? -1 : withSpecial.findIndex((_, i) => plain.every((id, j) => withSpecial[i + j] === id));
  const prefix = at < 0 ? [] : withSpecial.slice(0, at);
  const suffix = at < 0 ? [] : withSpecial.slice(at + plain.length);
  const room = maxTokens - prefix.length - suffix.length;
  if (room < 1) throw new Error(`${files.model}: ${maxTokens} tokens leave no room for text`);
  const tokenize = (text: string): number[] => {
    const cut = text.slice(0, maxTokens * CHARS_PER_TOKEN_BOUND);
    if (at < 0) return tokenizer.encode(cut).ids.slice(0, maxTokens);
    return [...prefix, ...tokenizer.encode(cut, { add_special_tokens: false }).ids.slice(0, room), ...suffix];
  };

  const padId = tokenizer.token_to_id('<pad>') ?? tokenizer.token_to_id('[PAD]') ?? 0;

  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    async embed(texts) {
      const out = new Float32Array(texts.length * dimension);
      if (texts.length === 0) return out;
      const ids = texts.map(tokenize);
      const length = Math.max(1, ...ids.map((t) => t.length));
      const size = texts.length * length;
      // Padding positions carry the pad token and mask 0: attention skips them, the mean too.
      const tensor = (name: string, value: (row: number[], i: number) => number, pad = 0): InstanceType<typeof ort.Tensor> => {
        const flat = new Int32Array(size).fill(pad);
        ids.forEach((row, b) => {
          for (let i = 0; i < row.length; i++) flat[b * length + i] = value(row, i);
        });
        const shape = [texts.length, length];
        return inputs.get(name) === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), shape) : new ort.Tensor('int32', flat, shape);
      };
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: tensor('input_ids', (row, i) => row[i]!, padId) };
      if (inputs.has('attention_mask')) feeds.attention_mask = tensor('attention_mask', () => 1);
      if (inputs.has('token_type_ids')) feeds.token_type_ids = tensor('token_type_ids', () => 0);
      const result = await session.run(feeds, [output]);
      runs += 1;
      const hidden = result[output]!;
      const data = hidden.data as Float32Array;
      const dims = hidden.dims;
      if (hidden.type !== 'float32' || dims[0] !== texts.length || dims[dims.length - 1] !== dimension || (dims.length === 3 && dims[1] !== length) || (dims.length !== 2 && dims.length !== 3)) {
        throw new Error(`${files.model}: output ${output} is ${hidden.type} [${dims.join(', ')}], expected float32 [${texts.length}, ${length}, ${dimension}]`);
      }
      for (let b = 0; b < texts.length; b++) {
        const vector = out.subarray(b * dimension, (b + 1) * dimension);
        if (dims.length === 2) {
          vector.set(data.subarray(b * dimension, (b + 1) * dimension));
        } else {
          // Mean over the text's own tokens (attention mask 1), never the padding.
          const count = ids[b]!.length;
          for (let t = 0; t < count; t++) {
            const row = data.subarray((b * length + t) * dimension, (b * length + t + 1) * dimension);
            for (let d = 0; d < dimension; d++) vector[d]! += row[d]!;
          }
          for (let d = 0; d < dimension; d++) vector[d]! /= count;
        }
        let norm = 0;
        for (let d = 0; d < dimension; d++) norm += vector[d]! * vector[d]!;
        if (!Number.isFinite(norm)) throw new Error(`${files.model}: the model returned a non-finite vector`);
        if (norm === 0) {
          vector[0] = 1; // keeps the cosine defined, as the hashing embedder does
          continue;
        }
        norm = Math.sqrt(norm);
        for (let d = 0; d < dimension; d++) vector[d]! /= norm;
      }
      return out;
    },
  };
}
