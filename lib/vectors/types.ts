/**
 * The vector seam: one interface, two backends (embedded USearch, Qdrant) with the same semantics.
 * Business code imports from `lib/vectors/index.js` only; nothing else imports a vector driver.
 */

/** A sparse vector: parallel arrays, indices unique (u32), values finite. */
export interface SparseVector {
  readonly indices: readonly number[];
  readonly values: readonly number[];
}

export type PayloadScalar = string | number | boolean;

/** One equality condition; `{ any: [...] }` matches when the field equals any listed value. */
export interface FieldCondition {
  readonly key: string;
  readonly match: PayloadScalar | { readonly any: readonly PayloadScalar[] };
}

/**
 * Keyword/equality filters only (what Folio needs: bookId, chapterId, visibility, userId).
 * A payload field holding an array matches when any element matches (Qdrant semantics).
 */
export interface PayloadFilter {
  readonly must?: readonly FieldCondition[];
  readonly mustNot?: readonly FieldCondition[];
}

export interface VectorPoint {
  readonly id: string;
  readonly dense: Float32Array;
  readonly sparse: SparseVector;
  readonly payload: Record<string, unknown>;
}

export type SearchMode = 'dense' | 'sparse' | 'hybrid';

export interface SearchRequest {
  readonly dense?: Float32Array;
  readonly sparse?: SparseVector;
  readonly mode: SearchMode;
  readonly filter?: PayloadFilter;
  readonly limit: number;
  readonly offset?: number;
  /**
   * HNSW search breadth (ef) for the dense part of this query: higher is slower and more exact.
   * Default: the store's setting. Qdrant: `params.hnsw_ef`.
   */
  readonly ef?: number;
}

export interface SearchHit {
  readonly id: string;
  /** dense: cosine similarity; sparse: Σ q·idf·d; hybrid: RRF score. Higher is better. */
  readonly score: number;
  readonly payload: Record<string, unknown>;
}

export interface CollectionOptions {
  readonly dimension: number;
  /** Who made the vectors (model + dimension). A collection never mixes embedders. */
  readonly embedderId: string;
  /** Payload keys that filters use; both backends index them. */
  readonly payloadIndexes?: readonly string[];
}

export interface CollectionInfo {
  readonly embedderId: string;
  readonly dimension: number;
  readonly points: number;
}

export interface VectorStore {
  /** Creates the collection, or checks it: throws VectorStoreError('EMBEDDER_MISMATCH') when it was built by another embedder. */
  ensureCollection(name: string, options: CollectionOptions): Promise<void>;
  /** Inserts or replaces points by id. */
  upsert(name: string, points: readonly VectorPoint[]): Promise<void>;
  /** Deletes the points matching the filter; returns how many were deleted. */
  delete(name: string, filter: PayloadFilter): Promise<number>;
  /** Deletes points by id; unknown ids are ignored. */
  deleteIds(name: string, ids: readonly string[]): Promise<void>;
  search(name: string, request: SearchRequest): Promise<SearchHit[]>;
  count(name: string, filter?: PayloadFilter): Promise<number>;
  /** undefined when the collection does not exist. */
  info(name: string): Promise<CollectionInfo | undefined>;
  /** Deletes the collection and everything in it (the first step of a rebuild). */
  drop(name: string): Promise<void>;
  /** Makes every write durable (embedded: writes the index files; Qdrant: no-op, writes wait already). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type VectorStoreErrorCode =
  /** The collection was built by another embedder or dimension: reindex into a new collection. */
  | 'EMBEDDER_MISMATCH'
  | 'COLLECTION_NOT_FOUND'
  /** An embedded index is missing files or fails its checksum: rebuild it from source data. */
  | 'INDEX_CORRUPT'
  | 'INVALID_ARGUMENT'
  | 'BACKEND_UNAVAILABLE';

/**
 * Errors of the seam. These are operator-facing (a client never causes a corrupt index); the
 * search service maps INVALID_ARGUMENT to BAD_USER_INPUT where the input came from a client.
 */
export class VectorStoreError extends Error {
  constructor(
    readonly code: VectorStoreErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'VectorStoreError';
  }
}
