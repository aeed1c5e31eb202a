/**
 * What the search service needs from its text machinery (subgraphs/search/core: tokenizer,
 * embedders, BM25, chunker, private indexes). Service code depends on these narrow shapes only;
 * engine.ts binds them to core's implementations.
 */
import type { SearchHit, SearchMode, SparseVector } from '../../lib/vectors/index.js';

export interface TextAnalyzer {
  /** Normalised search terms (lower case; jieba words for Chinese), in text order. */
  terms(text: string): string[];
}

export interface Embedder {
  /** Model id + dimension: recorded by every index it builds. */
  readonly id: string;
  readonly dimension: number;
  /**
   * Cosine similarity below which a dense match is noise for this model: a query that matches
   * nothing must find nothing, not the nearest of unrelated texts. 0 = no floor.
   */
  readonly minSimilarity: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** For search queries, when the model embeds them unlike passages (e5's `query: `); absent: `embed`. */
  embedQuery?(texts: readonly string[]): Promise<Float32Array[]>;
}

/** The vector of one search query. */
export async function embedQuery(embedder: Embedder, text: string): Promise<Float32Array> {
  const [vector] = embedder.embedQuery ? await embedder.embedQuery([text]) : await embedder.embed([text]);
  return vector!;
}

export interface SparseEncoder {
  document(text: string): SparseVector;
  query(text: string): SparseVector;
}

/** A bounded piece of a chapter: whole paragraphs, or a window of a long one. */
export interface Chunk {
  readonly text: string;
  /** The paragraphs the chunk covers, in order. */
  readonly paragraphIds: readonly string[];
  /** Offsets within `text` where each covered paragraph starts (parallel to paragraphIds). */
  readonly paragraphStarts: readonly number[];
  /** Offsets of the chunk within the chapter text. */
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface ChunkableChapter {
  readonly id: string;
  readonly text: string;
  readonly paragraphs: ReadonlyArray<{ readonly id: string; readonly index: number; readonly startOffset: number; readonly endOffset: number }>;
}

export interface Chunker {
  chunk(chapter: ChunkableChapter): Chunk[];
}

/** One item of a user's private index (a note or a highlight). */
export interface PrivateItem {
  readonly id: string;
  readonly text: string;
  readonly payload: Record<string, unknown>;
}

/** Per-user indexes kept in an object store, cached in memory. */
export interface PrivateIndexes {
  upsert(userId: string, items: readonly PrivateItem[]): Promise<void>;
  remove(userId: string, ids: readonly string[]): Promise<void>;
  search(userId: string, query: { text: string; mode: SearchMode; limit: number }): Promise<SearchHit[]>;
  /** Deletes a user's index everywhere (reindex starts each user afresh). */
  purge(userId: string): Promise<void>;
}
