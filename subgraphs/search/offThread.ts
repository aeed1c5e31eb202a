/**
 * The local hashing embedder on worker threads (lib/workers): embedding a book's chunks is the
 * bulk of indexing's CPU, and on the request event loop it stalls every request in the process.
 * Remote embedders (OpenAI-compatible) wait on I/O and stay where they are; so do small batches
 * (a query's one text), where a thread hop would cost more than it saves.
 */
import type { WorkerPool } from '../../lib/workers/index.js';
import { LocalHashEmbedder, MAX_EMBED_TEXTS, type Embedder } from './core/embedder.js';

/** Batches below this size are embedded inline. */
const MIN_OFFLOAD_TEXTS = 8;

const embedders = new Map<number, LocalHashEmbedder>();

/** The worker side: one flat buffer of `texts.length × dimension` floats (one transfer, no per-vector objects). */
export async function embedHashedTask({ dimension, texts }: { dimension: number; texts: string[] }): Promise<Float32Array> {
  let embedder = embedders.get(dimension);
  if (!embedder) embedders.set(dimension, (embedder = new LocalHashEmbedder({ dimension })));
  const vectors = await embedder.embed(texts);
  const flat = new Float32Array(texts.length * dimension);
  vectors.forEach((v, i) => flat.set(v, i * dimension));
  return flat;
}

const TASK = { module: new URL('./offThread.ts', import.meta.url).href, name: 'embedHashedTask' };

/** `embedder`, with its large batches computed on the pool when it is the local hashing embedder. */
export function offThreadEmbedder(embedder: Embedder, pool: WorkerPool): Embedder {
  if (!(embedder instanceof LocalHashEmbedder) || pool.threads === 0) return embedder;
  const { id, dimension } = embedder;
  return {
    id,
    dimension,
    async embed(texts: string[]): Promise<Float32Array[]> {
      // Oversized batches go inline too, to be refused there exactly as without the pool.
      if (texts.length < MIN_OFFLOAD_TEXTS || texts.length > MAX_EMBED_TEXTS) return embedder.embed(texts);
      const flat = await pool.run<Float32Array>(TASK, { dimension, texts });
      return texts.map((_, i) => flat.subarray(i * dimension, (i + 1) * dimension));
    },
  };
}
