/**
 * Input checks shared by both backends, so a bad call fails the same way on each. Inputs reach
 * here from the search service (partly client-controlled), so sizes are bounded.
 */
import { validateFilter } from './filter.js';
import type { CollectionOptions, SearchRequest, SparseVector, VectorPoint } from './types.js';
import { VectorStoreError } from './types.js';

export const LIMITS = {
  maxDimension: 4096,
  maxLimit: 1000,
  maxOffset: 10_000,
  maxEf: 4096,
  maxSparseTerms: 10_000,
  maxIdLength: 256,
  maxBatch: 10_000,
} as const;

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Payload keys starting with "__" are the backends' own (Qdrant keeps the original id there). */
export const RESERVED_PAYLOAD_PREFIX = '__';

const invalid = (message: string): VectorStoreError => new VectorStoreError('INVALID_ARGUMENT', message);

export function validateCollectionName(name: string): void {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) throw invalid(`invalid collection name ${JSON.stringify(name)}`);
}

export function validateCollectionOptions(options: CollectionOptions): void {
  if (!Number.isInteger(options.dimension) || options.dimension < 1 || options.dimension > LIMITS.maxDimension) {
    throw invalid(`dimension must be an integer in 1..${LIMITS.maxDimension}`);
  }
  if (typeof options.embedderId !== 'string' || options.embedderId.length === 0 || options.embedderId.length > 200) {
    throw invalid('embedderId must be a non-empty string');
  }
}

export function validateDense(vector: Float32Array, dimension: number): void {
  if (!(vector instanceof Float32Array) || vector.length !== dimension) throw invalid(`dense vector must be a Float32Array of ${dimension}`);
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i]!;
    if (!Number.isFinite(v)) throw invalid('dense vector has a non-finite value');
    norm += v * v;
  }
  // Cosine of a zero vector is undefined; both backends would disagree on it.
  if (norm === 0) throw invalid('dense vector must not be all zeros');
}

export function validateSparse(vector: SparseVector): void {
  const { indices, values } = vector ?? {};
  if (!Array.isArray(indices) || !Array.isArray(values) || indices.length !== values.length) {
    throw invalid('sparse vector needs indices and values of equal length');
  }
  if (indices.length > LIMITS.maxSparseTerms) throw invalid(`sparse vector has more than ${LIMITS.maxSparseTerms} terms`);
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw invalid('sparse indices must be u32 integers');
    if (seen.has(index)) throw invalid('sparse indices must be unique');
    seen.add(index);
    if (!Number.isFinite(values[i]!)) throw invalid('sparse values must be finite');
  }
}

export function validatePoints(points: readonly VectorPoint[], dimension: number): void {
  validateBatch(points);
  for (const point of points) validatePoint(point, dimension);
}

/** The checks over a whole upsert batch: its size, and each id well-formed and given once. */
export function validateBatch(points: readonly VectorPoint[]): void {
  if (!Array.isArray(points) || points.length > LIMITS.maxBatch) throw invalid(`upsert takes at most ${LIMITS.maxBatch} points`);
  const ids = new Set<string>();
  for (const point of points) {
    if (typeof point?.id !== 'string' || point.id.length === 0 || point.id.length > LIMITS.maxIdLength) {
      throw invalid(`point ids are strings of 1..${LIMITS.maxIdLength} characters`);
    }
    if (ids.has(point.id)) throw invalid(`duplicate point id ${JSON.stringify(point.id)} in one upsert`);
    ids.add(point.id);
  }
}

/** The checks of one point of a batch that passed validateBatch: its vectors and payload. */
export function validatePoint(point: VectorPoint, dimension: number): void {
  validateDense(point.dense, dimension);
  validateSparse(point.sparse);
  if (typeof point.payload !== 'object' || point.payload === null || Array.isArray(point.payload)) throw invalid('payload must be an object');
  if (Object.keys(point.payload).some((key) => key.startsWith(RESERVED_PAYLOAD_PREFIX))) {
    throw invalid(`payload keys starting with "${RESERVED_PAYLOAD_PREFIX}" are reserved`);
  }
}

export function validateIds(ids: readonly string[]): void {
  if (!Array.isArray(ids) || ids.length > LIMITS.maxBatch) throw invalid(`at most ${LIMITS.maxBatch} ids at once`);
  if (!ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= LIMITS.maxIdLength)) throw invalid('invalid point id');
}

/** Checks a search request; returns the offset with its default filled in. */
export function validateSearch(request: SearchRequest, dimension: number): number {
  const offset = request.offset ?? 0;
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > LIMITS.maxLimit) throw invalid(`limit must be in 1..${LIMITS.maxLimit}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > LIMITS.maxOffset) throw invalid(`offset must be in 0..${LIMITS.maxOffset}`);
  const needsDense = request.mode === 'dense' || request.mode === 'hybrid';
  const needsSparse = request.mode === 'sparse' || request.mode === 'hybrid';
  if (!needsDense && !needsSparse) throw invalid(`unknown search mode ${JSON.stringify(request.mode)}`);
  if (needsDense) {
    if (!request.dense) throw invalid(`${request.mode} search needs a dense vector`);
    validateDense(request.dense, dimension);
  }
  if (needsSparse) {
    if (!request.sparse) throw invalid(`${request.mode} search needs a sparse vector`);
    validateSparse(request.sparse);
  }
  if (request.ef !== undefined && (!Number.isInteger(request.ef) || request.ef < 1 || request.ef > LIMITS.maxEf)) throw invalid(`ef must be in 1..${LIMITS.maxEf}`);
  validateFilter(request.filter);
  return offset;
}
