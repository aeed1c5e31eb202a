/**
 * An in-process sentence-embedding model (FOLIO_EMBEDDINGS_MODEL_DIR): a Hugging Face ONNX export
 * run by onnxruntime-node, mean-pooled over the attention mask and L2-normalised. No network.
 *
 * Off the event loop: onnxruntime-node runs a graph synchronously on the thread that calls
 * `session.run` (its promise only defers the start), so a batch on the request thread would
 * stall every request for its whole length. The model therefore lives on one dedicated worker
 * thread (lib/workers `dedicatedWorker`: loaded once, not once per shared pool thread, and not
 * reloaded after an idle exit), where onnxruntime spreads each batch over its own intra-op
 * threads. Batches go one at a time and query batches jump the queue, so a search waits for at
 * most the batch being computed, never for a book's worth of indexing. With FOLIO_WORKER_THREADS=0
 * everything runs on the calling thread (the fallback, as for the other CPU-heavy tasks).
 */
import { createHash } from 'node:crypto';
import { FolioError } from '../../../lib/errors.js';
import { dedicatedWorker, type WorkerPool } from '../../../lib/workers/index.js';
import { checkBatch, type Embedder } from './embedder.js';
import { describeModelDir, loadOnnxModel, type LoadOptions, type ModelDescription, type OnnxModel } from './onnxModel.js';

export interface OnnxEmbedderOptions {
  /** The model directory (FOLIO_EMBEDDINGS_MODEL_DIR). */
  readonly dir: string;
  /** The graph's path inside `dir`. @default model.onnx, else onnx/model.onnx */
  readonly modelFile?: string | undefined;
  /** Cosine similarity below which a match is noise (FOLIO_EMBEDDINGS_MIN_SIMILARITY). @default 0 */
  readonly minSimilarity?: number | undefined;
  /** Put before every query, e.g. e5's `query: ` (FOLIO_EMBEDDINGS_QUERY_PREFIX). @default '' */
  readonly queryPrefix?: string | undefined;
  /** Put before every passage, e.g. e5's `passage: ` (FOLIO_EMBEDDINGS_PASSAGE_PREFIX). @default '' */
  readonly passagePrefix?: string | undefined;
  /** Texts per graph run: a query waits for at most one such batch of passages. @default 8 */
  readonly batchSize?: number | undefined;
  /** Tokens per text, at most the model's own limit (config.json). @default the model's limit */
  readonly maxTokens?: number | undefined;
  /** Run on a dedicated worker thread. @default true */
  readonly workerThread?: boolean | undefined;
  /** onnxruntime threads per batch (0: one per core). @default 0 */
  readonly intraOpThreads?: number | undefined;
}

// --- the worker side ----------------------------------------------------------------------------

interface TaskInput {
  readonly key: string;
  readonly load: LoadOptions;
  readonly texts: readonly string[];
}

const models = new Map<string, Promise<OnnxModel>>();

function modelFor(key: string, load: LoadOptions): Promise<OnnxModel> {
  let model = models.get(key);
  if (!model) {
    model = loadOnnxModel(load);
    models.set(key, model);
    // A model that failed to load is tried again on the next batch (the files may have been mid-copy).
    model.catch(() => models.delete(key));
  }
  return model;
}

type TaskResult = { readonly vectors: Float32Array } | { readonly error: string };

/**
 * Embeds `texts` with the model `key` (loaded on first use, kept): one flat buffer,
 * `texts.length × dimension`. Failures come back as a message (an Error thrown across threads
 * can arrive without one).
 */
export async function embedOnnxTask({ key, load, texts }: TaskInput): Promise<TaskResult> {
  try {
    const model = await modelFor(key, load);
    return { vectors: await model.embed(texts) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const TASK = { module: new URL('./onnxEmbedder.ts', import.meta.url).href, name: 'embedOnnxTask' };

// --- the calling side ---------------------------------------------------------------------------

interface Job {
  readonly texts: readonly string[];
  readonly resolve: (flat: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly minSimilarity: number;
  readonly maxTokens: number;
  readonly description: ModelDescription;
  private readonly load: LoadOptions;
  private readonly batchSize: number;
  private readonly queryPrefix: string;
  private readonly passagePrefix: string;
  private readonly worker: (WorkerPool & { release(): Promise<void> }) | undefined;
  private readonly queries: Job[] = [];
  private readonly passages: Job[] = [];
  private busy = false;
  private closed = false;
  /** Graph runs requested so far (one per batch). */
  batches = 0;

  /** Reads and hashes the model directory (synchronously: the id is needed at once); throws naming what is wrong with it. */
  constructor(options: OnnxEmbedderOptions) {
    this.description = describeModelDir(options.dir, { modelFile: options.modelFile, maxTokens: options.maxTokens });
    const { files, dimension, maxTokens, label, hash } = this.description;
    this.dimension = dimension;
    this.maxTokens = maxTokens;
    this.minSimilarity = options.minSimilarity ?? 0;
    this.queryPrefix = options.queryPrefix ?? '';
    this.passagePrefix = options.passagePrefix ?? '';
    this.batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 256) throw new RangeError('batchSize must be in 1..256');
    // The stored vectors depend on the weights, the tokenizer, the passage prefix and the cut: all
    // of it is in the id, so changing any of it starts a fresh collection. The query prefix is not:
    // it changes no stored vector.
    const variant = createHash('sha256').update(`${hash}\0${this.passagePrefix}\0${maxTokens}`).digest('hex').slice(0, 12);
    this.id = `onnx:${label}:${variant}:${dimension}`;
    this.load = { files, dimension, maxTokens, intraOpThreads: options.intraOpThreads ?? 0 };
    this.worker = options.workerThread === false ? undefined : dedicatedWorker();
    // Load the model now, so the first search does not wait for it; a failure shows on first use.
    this.schedule([], this.queries).catch(() => undefined);
  }

  /** Passages (book chunks, notes). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    return this.embedAll(texts, this.passagePrefix, this.passages);
  }

  /** Search queries: ahead of any passage batch waiting. */
  async embedQuery(texts: string[]): Promise<Float32Array[]> {
    return this.embedAll(texts, this.queryPrefix, this.queries);
  }

  /** Ends the worker thread; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of [...this.queries.splice(0), ...this.passages.splice(0)]) job.reject(new FolioError('SERVICE_UNAVAILABLE', 'The embedding model was closed.'));
    await this.worker?.release();
  }

  private async embedAll(texts: string[], prefix: string, lane: Job[]): Promise<Float32Array[]> {
    checkBatch(texts);
    const out: Float32Array[] = new Array(texts.length);
    // Similar lengths batched together: less padding computed and thrown away.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const runs: Array<Promise<void>> = [];
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      runs.push(
        this.schedule(
          indices.map((i) => prefix + texts[i]!),
          lane,
        ).then((flat) => indices.forEach((i, k) => (out[i] = flat.slice(k * this.dimension, (k + 1) * this.dimension)))),
      );
    }
    await Promise.all(runs);
    return out;
  }

  private schedule(texts: readonly string[], lane: Job[]): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new FolioError('SERVICE_UNAVAILABLE', 'The embedding model was closed.'));
    return new Promise((resolve, reject) => {
      lane.push({ texts, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.queries.shift() ?? this.passages.shift();
    if (!job) return;
    this.busy = true;
    if (job.texts.length > 0) this.batches += 1;
    const input: TaskInput = { key: this.id, load: this.load, texts: job.texts };
    const run = this.worker ? this.worker.run<TaskResult>(TASK, input) : embedOnnxTask(input);
    run
      .then((result) => {
        if ('error' in result) throw new Error(`embedding model ${this.id}: ${result.error}`);
        if (result.vectors.length !== job.texts.length * this.dimension) throw new Error(`the model returned ${result.vectors.length} values for ${job.texts.length} texts`);
        job.resolve(result.vectors);
      })
      // The cause (with the model's message) reaches the logs; clients see only that search is unavailable.
      .catch((error: unknown) => job.reject(new FolioError('SERVICE_UNAVAILABLE', 'The embedding model failed.', { cause: error })))
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}
