/**
 * Embedders behind one interface. The id names model and dimension; a vector collection records
 * it and refuses vectors from another embedder (lib/vectors EMBEDDER_MISMATCH).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FolioError } from '../../../lib/errors.js';
import { hash32 } from './hash.js';
import { OnnxEmbedder } from './onnxEmbedder.js';
import { withPrefixes } from './prefixes.js';

export interface Embedder {
  readonly id: string;
  readonly dimension: number;
  /** Cosine similarity below which a dense match is noise for this model (0: no floor). */
  readonly minSimilarity: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** For search queries, when the model embeds them unlike passages (e5's `query: `); absent: `embed`. */
  embedQuery?(texts: string[]): Promise<Float32Array[]>;
  /** Releases threads or connections. */
  close?(): Promise<void>;
}

/** Most texts per embed call and characters per text (longer texts are cut). */
export const MAX_EMBED_TEXTS = 2048;
export const MAX_EMBED_CHARS = 32_000;

export function checkBatch(texts: readonly string[]): void {
  if (!Array.isArray(texts) || texts.length > MAX_EMBED_TEXTS || !texts.every((t) => typeof t === 'string')) {
    throw new FolioError('BAD_USER_INPUT', `embed takes at most ${MAX_EMBED_TEXTS} strings`);
  }
}

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;
const LATIN_WORD = /[\p{L}\p{N}]+/gu;

export interface LocalHashEmbedderOptions {
  /** @default 384 */
  readonly dimension?: number;
}

/**
 * Deterministic, dependency-free embedder: hashed character n-grams (1–3 for CJK, 3–5 plus the
 * whole word for Latin) with the signed hashing trick (a second hash bit picks the sign so
 * collisions cancel instead of piling up), L2-normalised. It captures lexical and sub-word
 * similarity, not meaning: good enough to run everything offline and to test the pipeline; a
 * real model is configured through FOLIO_EMBEDDINGS_URL.
 */
export class LocalHashEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  /**
   * Measured on short notes: a shared word scores 0.3–0.6, unrelated English text under 0.1,
   * while hash collisions between scripts reach about 0.26.
   */
  readonly minSimilarity = 0.3;

  constructor(options: LocalHashEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 384;
    if (!Number.isInteger(this.dimension) || this.dimension < 8 || this.dimension > 4096) throw new RangeError('dimension must be in 8..4096');
    this.id = `local-hash-v1:${this.dimension}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    checkBatch(texts);
    return texts.map((text) => this.embedOne(text));
  }

  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimension);
    const add = (feature: string, weight: number): void => {
      const h = hash32(feature);
      vector[h % this.dimension]! += h & 0x80000000 ? -weight : weight;
    };
    const normalized = text.slice(0, MAX_EMBED_CHARS).normalize('NFKC').toLowerCase();
    for (const [run] of normalized.matchAll(CJK_RUN)) {
      for (let i = 0; i < run.length; i++) {
        add(`c1:${run[i]}`, 0.5);
        if (i + 1 < run.length) add(`c2:${run.slice(i, i + 2)}`, 1);
        if (i + 2 < run.length) add(`c3:${run.slice(i, i + 3)}`, 1);
      }
    }
    for (const [word] of normalized.replace(CJK_RUN, ' ').matchAll(LATIN_WORD)) {
      add(`w:${word}`, 1.5);
      const padded = `<${word}>`;
      for (let n = 3; n <= 5; n++) {
        for (let i = 0; i + n <= padded.length; i++) add(`g:${padded.slice(i, i + n)}`, 0.4);
      }
    }
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
    if (norm === 0) {
      // Text without letters (empty, punctuation): a fixed unit vector keeps the cosine defined.
      vector[0] = 1;
      return vector;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
    return vector;
  }
}

export interface OpenAIEmbedderOptions {
  /** Base URL of an OpenAI-compatible API, e.g. https://api.openai.com (with or without /v1). */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  /** Dimension the model returns (sent as `dimensions`, checked on every response). */
  readonly dimension: number;
  /** Texts per request. @default 64 */
  readonly batchSize?: number;
  /** Requests in flight at once. @default 2 */
  readonly concurrency?: number;
  /** Attempts per request (429, 5xx, network errors, timeouts are retried). @default 4 */
  readonly maxAttempts?: number;
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** First backoff delay, doubled each retry, with jitter. @default 250 */
  readonly backoffMs?: number;
  /** Injected for tests. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Cosine similarity below which a match is noise (models differ widely: e5 puts unrelated text near 0.7). @default 0 */
  readonly minSimilarity?: number;
}

class RetryableError extends Error {}

/** An OpenAI-compatible /v1/embeddings client: batched, bounded concurrency, retried with backoff. */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly minSimilarity: number;
  private readonly endpoint: string;

  constructor(private readonly options: OpenAIEmbedderOptions) {
    this.dimension = options.dimension;
    this.minSimilarity = options.minSimilarity ?? 0;
    this.id = `openai:${options.model}:${options.dimension}`;
    const base = options.url.replace(/\/+$/, '');
    this.endpoint = base.endsWith('/v1') ? `${base}/embeddings` : `${base}/v1/embeddings`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    checkBatch(texts);
    const size = this.options.batchSize ?? 64;
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += size) batches.push(texts.slice(i, i + size).map((t) => t.slice(0, MAX_EMBED_CHARS)));
    const results: Float32Array[][] = new Array(batches.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const mine = next++;
        results[mine] = await this.withRetry(() => this.request(batches[mine]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 2, batches.length) }, worker));
    return results.flat();
  }

  private async withRetry<T>(attempt: () => Promise<T>): Promise<T> {
    const max = this.options.maxAttempts ?? 4;
    const base = this.options.backoffMs ?? 250;
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RetryableError) || i >= max) {
          throw new FolioError('SERVICE_UNAVAILABLE', 'The embedding service failed.', { cause: error });
        }
        await sleep(base * 2 ** (i - 1) * (0.5 + Math.random()));
      }
    }
  }

  private async request(input: string[]): Promise<Float32Array[]> {
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.options.model, input, dimensions: this.dimension, encoding_format: 'float' }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new RetryableError(`embedding request failed: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 429 || response.status >= 500) throw new RetryableError(`embedding service answered ${response.status}`);
    if (!response.ok) throw new Error(`embedding service answered ${response.status}`);
    const body = (await response.json()) as { data?: Array<{ index?: number; embedding?: unknown }> };
    const data = body.data;
    if (!Array.isArray(data) || data.length !== input.length) throw new Error('embedding response has the wrong number of vectors');
    const out: Float32Array[] = new Array(input.length);
    data.forEach((item, position) => {
      const index = Number.isInteger(item.index) ? item.index! : position;
      const embedding = item.embedding;
      if (index < 0 || index >= input.length || !Array.isArray(embedding) || embedding.length !== this.dimension || !embedding.every(Number.isFinite)) {
        throw new Error(`embedding response item ${position} is malformed or not ${this.dimension}-dimensional`);
      }
      const vector = Float32Array.from(embedding as number[]);
      let norm = 0;
      for (const v of vector) norm += v * v;
      norm = Math.sqrt(norm) || 1;
      out[index] = vector.map((v) => v / norm);
    });
    if (out.some((v) => v === undefined)) throw new Error('embedding response repeats an index');
    return out;
  }
}

/** The configured embedder: in-process ONNX with FOLIO_EMBEDDINGS_MODEL_DIR, OpenAI-compatible with FOLIO_EMBEDDINGS_URL, else local hashing. */
export function createEmbedder(
  config: {
    embeddings: { url: string; model: string; apiKey: string | undefined; minSimilarity?: number | undefined; queryPrefix?: string | undefined; passagePrefix?: string | undefined } | undefined;
    embeddingsModel?: { dir: string; minSimilarity: number | undefined; queryPrefix: string | undefined; passagePrefix: string | undefined } | undefined;
    workerThreads?: number | undefined;
  },
  dimension = 384,
): Embedder {
  if (config.embeddingsModel) {
    const threads = config.workerThreads ?? 1;
    return new OnnxEmbedder({ ...config.embeddingsModel, workerThread: threads > 0, intraOpThreads: threads });
  }
  if (config.embeddings) {
    const { queryPrefix, passagePrefix, ...http } = config.embeddings;
    return withPrefixes(new OpenAIEmbedder({ ...http, dimension }), { query: queryPrefix ?? '', passage: passagePrefix ?? '' });
  }
  return new LocalHashEmbedder({ dimension });
}
