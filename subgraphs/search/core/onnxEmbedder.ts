/**
 * An in-process sentence-embedding model (FOLIO_EMBEDDINGS_MODEL_DIR): a Hugging Face ONNX export
 * run by onnxruntime-node, mean-pooled over the attention mask and L2-normalised. No network.
 *
 * Off the event loop: onnxruntime-node runs a graph synchronously on the thread that calls
 * `session.run` (its promise only defers the start), so a batch on the request thread would
 * stall every request for its whole length. The model therefore lives on one dedicated worker
 * thread (lib/workers `dedicatedWorker`: loaded once, not once per shared pool thread, and not
 * reloaded after an idle exit), where onnxruntime spreads each batch over its own intra-op
 * threads, one batch at a time. Queries have a second thread and model copy of their own: an
 * indexing batch of a real model takes about a second on one core, and a search must not wait
 * for it. With FOLIO_WORKER_THREADS=0 everything runs on the calling thread (the fallback, as for
 * the other CPU-heavy tasks), queries ahead of waiting passage batches.
 */
import { createHash } from 'node:crypto';
import { FolioError } from '../../../lib/errors.js';
import { dedicatedWorker } from '../../../lib/workers/index.js';
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
  /**
   * With workerThread, queries on a second thread with their own copy of the model, so a search
   * never waits for an indexing batch (the model's memory twice). @default true
   */
  readonly queryThread?: boolean | undefined;
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

const closedError = (): FolioError => new FolioError('SERVICE_UNAVAILABLE', 'The embedding model was closed.');

/** One model instance and its queue: one batch at a time, urgent jobs first. */
class Lane {
  private readonly urgent: Job[] = [];
  private readonly normal: Job[] = [];
  private busy = false;
  /** Batches started (empty warm-up runs not counted). */
  started = 0;

  constructor(
    private readonly run: (texts: readonly string[]) => Promise<TaskResult>,
    private readonly check: (result: TaskResult, texts: readonly string[]) => Float32Array,
    readonly release: () => Promise<void>,
  ) {}

  push(texts: readonly string[], urgent: boolean): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      (urgent ? this.urgent : this.normal).push({ texts, resolve, reject });
      this.pump();
    });
  }

  rejectAll(error: unknown): void {
    for (const job of [...this.urgent.splice(0), ...this.normal.splice(0)]) job.reject(error);
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.urgent.shift() ?? this.normal.shift();
    if (!job) return;
    this.busy = true;
    if (job.texts.length > 0) this.started += 1;
    this.run(job.texts)
      .then((result) => job.resolve(this.check(result, job.texts)))
      // The cause (with the model's message) reaches the logs; clients see only that search is unavailable.
      .catch((error: unknown) => job.reject(new FolioError('SERVICE_UNAVAILABLE', 'The embedding model failed.', { cause: error })))
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly minSimilarity: number;
  readonly maxTokens: number;
  readonly description: ModelDescription;
  private readonly batchSize: number;
  private readonly queryPrefix: string;
  private readonly passagePrefix: string;
  private readonly passageLane: Lane;
  /** The passage lane itself when queries have no thread of their own (they then jump its queue). */
  private readonly queryLane: Lane;
  private closed = false;

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
    const load: LoadOptions = { files, dimension, maxTokens, intraOpThreads: options.intraOpThreads ?? 0 };
    const lane = (threaded: boolean, settings: LoadOptions): Lane => {
      const worker = threaded ? dedicatedWorker() : undefined;
      const input = (texts: readonly string[]): TaskInput => ({ key: this.id, load: settings, texts });
      return new Lane(
        (texts) => (worker ? worker.run<TaskResult>(TASK, input(texts)) : embedOnnxTask(input(texts))),
        (result, texts) => {
          if ('error' in result) throw new Error(`embedding model ${this.id}: ${result.error}`);
          if (result.vectors.length !== texts.length * dimension) throw new Error(`the model returned ${result.vectors.length} values for ${texts.length} texts`);
          return result.vectors;
        },
        async () => worker?.release(),
      );
    };
    const threaded = options.workerThread !== false;
    this.passageLane = lane(threaded, load);
    // A query is one short text: one intra-op thread computes it in milliseconds.
    this.queryLane = threaded && options.queryThread !== false ? lane(true, { ...load, intraOpThreads: 1 }) : this.passageLane;
    // Load the model now, so the first search does not wait for it; a failure shows on first use.
    for (const l of new Set([this.passageLane, this.queryLane])) l.push([], true).catch(() => undefined);
  }

  /** Graph runs started so far (one per batch). */
  get batches(): number {
    return this.passageLane.started + (this.queryLane === this.passageLane ? 0 : this.queryLane.started);
  }

  /** Passages (book chunks, notes). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    return this.embedAll(texts, this.passagePrefix, this.passageLane, false);
  }

  /** Search queries: on their own thread, or ahead of any passage batch waiting. */
  async embedQuery(texts: string[]): Promise<Float32Array[]> {
    return this.embedAll(texts, this.queryPrefix, this.queryLane, true);
  }

  /** Ends the worker threads; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const l of new Set([this.passageLane, this.queryLane])) {
      l.rejectAll(closedError());
      await l.release();
    }
  }

  private async embedAll(texts: string[], prefix: string, lane: Lane, urgent: boolean): Promise<Float32Array[]> {
    checkBatch(texts);
    if (this.closed) throw closedError();
    const out: Float32Array[] = new Array(texts.length);
    // Similar lengths batched together: less padding computed and thrown away.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const runs: Array<Promise<void>> = [];
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      runs.push(
        lane
          .push(
            indices.map((i) => prefix + texts[i]!),
            urgent,
          )
          .then((flat) => indices.forEach((i, k) => (out[i] = flat.slice(k * this.dimension, (k + 1) * this.dimension)))),
      );
    }
    await Promise.all(runs);
    return out;
  }
}
