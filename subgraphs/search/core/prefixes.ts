/**
 * Query and passage prefixes for an embedder served over HTTP. Models such as e5 are trained with
 * `query: ` before a search and `passage: ` before a document, and score worse without them; an
 * OpenAI-compatible server does not add them, so Folio does (FOLIO_EMBEDDINGS_QUERY_PREFIX,
 * FOLIO_EMBEDDINGS_PASSAGE_PREFIX). The in-process model applies them itself (onnxEmbedder.ts).
 */
import { createHash } from 'node:crypto';
import type { Embedder } from './embedder.js';

export interface Prefixes {
  readonly query: string;
  readonly passage: string;
}

/** `embedder` with `passage` before every passage and `query` before every query. */
export function withPrefixes(embedder: Embedder, prefixes: Prefixes): Embedder {
  if (!prefixes.query && !prefixes.passage) return embedder;
  // Stored vectors change with the passage prefix, so it is part of the id (a new collection).
  const id = prefixes.passage ? `${embedder.id}|passage:${createHash('sha256').update(prefixes.passage).digest('hex').slice(0, 8)}` : embedder.id;
  return {
    id,
    dimension: embedder.dimension,
    minSimilarity: embedder.minSimilarity,
    embed: (texts) => embedder.embed(texts.map((t) => prefixes.passage + t)),
    embedQuery: (texts) => (embedder.embedQuery ?? embedder.embed).call(embedder, texts.map((t) => prefixes.query + t)),
    ...(embedder.close ? { close: () => embedder.close!() } : {}),
  };
}
