/**
 * Indexing's CPU-heavy pure steps on worker threads (lib/workers), so a large book does not stall
 * every request in the process:
 * - fetching a revision from catalog, parsing and validating its JSON, and chunking it (tens of MB
 *   for a 100,000-paragraph book); chunks come back over a MessagePort in pages, paced (one or two
 *   per loop turn: lib/workers/paced.ts), so no structured-clone decode on the event loop is long;
 * - the local hashing embedder. Remote embedders (OpenAI-compatible) wait on I/O and stay where
 *   they are; so do small batches (a query's one text), where a thread hop costs more than it saves.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { WorkerPool } from '../../lib/workers/index.js';
import { pacedSender, receivePaced } from '../../lib/workers/paced.js';
import { fetchRevisionChapters } from './catalogClient.js';
import { LocalHashEmbedder, MAX_EMBED_TEXTS, type Embedder } from './core/embedder.js';
import { chunker } from './engine.js';
import { chunkRevision, type PreparedRevision } from './indexer.js';

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
  const { id, dimension, minSimilarity } = embedder;
  return {
    id,
    dimension,
    minSimilarity,
    async embed(texts: string[]): Promise<Float32Array[]> {
      // Oversized batches go inline too, to be refused there exactly as without the pool.
      if (texts.length < MIN_OFFLOAD_TEXTS || texts.length > MAX_EMBED_TEXTS) return embedder.embed(texts);
      const flat = await pool.run<Float32Array>(TASK, { dimension, texts });
      return texts.map((_, i) => flat.subarray(i * dimension, (i + 1) * dimension));
    },
  };
}

/** Chunks per message from the revision loader. */
const CHUNK_PAGE = 500;

type RevisionMessage =
  | { readonly kind: 'content'; readonly content: PreparedRevision['content'] }
  | { readonly kind: 'chunks'; readonly chunks: PreparedRevision['chunks'] }
  | { readonly kind: 'done'; readonly total: number }
  | { readonly kind: 'failed'; readonly message: string };

export interface RevisionChunksInput {
  readonly secret: string;
  readonly baseUrl: string;
  readonly revisionId: string;
  readonly port: MessagePort;
}

/** The worker side of offThreadRevisionLoader. */
export async function revisionChunksTask({ secret, baseUrl, revisionId, port }: RevisionChunksInput): Promise<void> {
  const sender = pacedSender(port);
  const send = (message: RevisionMessage): void => sender.send(message);
  try {
    const { chapters, ...content } = await fetchRevisionChapters(secret, baseUrl, revisionId);
    const chunks = chunkRevision({ ...content, chapters }, chunker);
    send({ kind: 'content', content });
    for (let i = 0; i < chunks.length; i += CHUNK_PAGE) send({ kind: 'chunks', chunks: chunks.slice(i, i + CHUNK_PAGE) });
    send({ kind: 'done', total: chunks.length });
  } catch (error) {
    send({ kind: 'failed', message: (error as Error)?.message ?? String(error) });
  } finally {
    await sender.drain();
    port.close();
  }
}

const REVISION_TASK = { module: new URL('./offThread.ts', import.meta.url).href, name: 'revisionChunksTask' };

/** BookIndexer's `loadRevision` on the pool: the same content and chunks as fetching and chunking inline. */
export function offThreadRevisionLoader(pool: WorkerPool, secret: string, baseUrl: () => string): (revisionId: string, signal?: AbortSignal) => Promise<PreparedRevision> {
  return async (revisionId, signal) => {
    signal?.throwIfAborted();
    const { port1, port2 } = new MessageChannel();
    let content: PreparedRevision['content'] | undefined;
    const chunks: Array<PreparedRevision['chunks'][number]> = [];
    const finished = new Promise<number>((resolve, reject) => {
      receivePaced<RevisionMessage>(port1, (message) => {
        if (message.kind === 'content') content = message.content;
        else if (message.kind === 'chunks') chunks.push(...message.chunks);
        else if (message.kind === 'done') resolve(message.total);
        else reject(new Error(message.message));
      });
      port1.on('close', () => reject(new Error('the revision loader closed its channel without a result')));
    });
    try {
      const [total] = await Promise.all([finished, pool.run(REVISION_TASK, { secret, baseUrl: baseUrl(), revisionId, port: port2 } satisfies RevisionChunksInput, [port2])]);
      if (!content || chunks.length !== total) throw new Error(`revision loader sent ${chunks.length} of ${total} chunks`);
      signal?.throwIfAborted();
      return { content, chunks };
    } finally {
      port1.close();
    }
  };
}
