/**
 * The Qdrant backend: one collection per name with named vectors "dense" (cosine) and "sparse"
 * (modifier idf), hybrid through the Query API (two prefetches fused by RRF, k = 60). Folio ids
 * are arbitrary strings; Qdrant wants u64 or UUID, so ids are mapped to UUIDs deterministically
 * and the original id is kept in the payload under `__id`.
 * The embedder id and dimension live in the collection's metadata (Qdrant ≥ 1.16).
 */
import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { conditionValues, isEmptyFilter, validateFilter } from './filter.js';
import { RRF_K, prefetchLimit } from './fusion.js';
import type { CollectionInfo, CollectionOptions, FieldCondition, PayloadFilter, SearchHit, SearchRequest, VectorPoint, VectorStore } from './types.js';
import { VectorStoreError } from './types.js';
import { validateCollectionName, validateCollectionOptions, validateIds, validatePoints, validateSearch } from './validate.js';

export interface QdrantVectorStoreOptions {
  readonly url: string;
  readonly apiKey?: string | undefined;
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** Points per upsert request. @default 256 */
  readonly batchSize?: number;
}

const ID_KEY = '__id';
const ID_NAMESPACE = 'folio-vector-point:';

/** Deterministic UUID (v5 layout over sha256) for a string id: the same id maps to the same point. */
export function pointUuid(id: string): string {
  const bytes = createHash('sha256').update(ID_NAMESPACE + id).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type QdrantCondition = Record<string, unknown>;

function toCondition(condition: FieldCondition): QdrantCondition {
  const values = conditionValues(condition);
  if (values.length === 1) return { key: condition.key, match: { value: values[0] } };
  // match.any takes strings or integers; booleans and floats become a nested "should".
  if (values.every((v) => typeof v === 'string') || values.every((v) => Number.isInteger(v))) {
    return { key: condition.key, match: { any: values } };
  }
  return { should: values.map((value) => ({ key: condition.key, match: { value } })) };
}

export function toQdrantFilter(filter: PayloadFilter | undefined): Record<string, unknown> | undefined {
  if (isEmptyFilter(filter)) return undefined;
  const result: Record<string, unknown> = {};
  if (filter!.must?.length) result['must'] = filter!.must.map(toCondition);
  if (filter!.mustNot?.length) result['must_not'] = filter!.mustNot.map(toCondition);
  return result;
}

function unavailable(error: unknown): VectorStoreError {
  if (error instanceof VectorStoreError) return error;
  return new VectorStoreError('BACKEND_UNAVAILABLE', `Qdrant request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

export class QdrantVectorStore implements VectorStore {
  private readonly client: QdrantClient;
  private readonly batchSize: number;
  private readonly dimensions = new Map<string, number>();

  constructor(options: QdrantVectorStoreOptions) {
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: options.timeoutMs ?? 30_000, checkCompatibility: false });
    this.batchSize = options.batchSize ?? 256;
  }

  async ensureCollection(name: string, options: CollectionOptions): Promise<void> {
    validateCollectionName(name);
    validateCollectionOptions(options);
    const existing = await this.info(name);
    if (existing) {
      if (existing.embedderId !== options.embedderId || existing.dimension !== options.dimension) {
        throw new VectorStoreError(
          'EMBEDDER_MISMATCH',
          `collection "${name}" holds vectors of ${existing.embedderId} (${existing.dimension} dims), not ${options.embedderId} (${options.dimension} dims); reindex into a new collection`,
        );
      }
    } else {
      await this.call(() =>
        this.client.api().createCollection({
          collection_name: name,
          vectors: { dense: { size: options.dimension, distance: 'Cosine' } },
          sparse_vectors: { sparse: { modifier: 'idf' } },
          metadata: { embedderId: options.embedderId, dimension: options.dimension },
        }),
      );
      const created = await this.info(name);
      if (created?.embedderId !== options.embedderId) {
        throw new VectorStoreError('BACKEND_UNAVAILABLE', 'Qdrant did not keep collection metadata: Folio needs Qdrant 1.16 or later');
      }
    }
    for (const key of [ID_KEY, ...(options.payloadIndexes ?? [])]) {
      await this.call(() => this.client.createPayloadIndex(name, { field_name: key, field_schema: 'keyword', wait: true }));
    }
    this.dimensions.set(name, options.dimension);
  }

  async upsert(name: string, points: readonly VectorPoint[]): Promise<void> {
    validatePoints(points, await this.dimension(name));
    for (let start = 0; start < points.length; start += this.batchSize) {
      const batch = points.slice(start, start + this.batchSize).map((point) => ({
        id: pointUuid(point.id),
        vector: {
          dense: Array.from(point.dense),
          // Qdrant rejects an empty sparse vector; a point without terms simply has none.
          ...(point.sparse.indices.length > 0 ? { sparse: { indices: [...point.sparse.indices], values: [...point.sparse.values] } } : {}),
        },
        payload: { ...point.payload, [ID_KEY]: point.id },
      }));
      await this.call(() => this.client.upsert(name, { wait: true, points: batch }));
    }
  }

  async delete(name: string, filter: PayloadFilter): Promise<number> {
    validateFilter(filter);
    // Qdrant's delete does not report a count; count first (racy only against concurrent writers).
    const matching = await this.count(name, filter);
    if (matching > 0) await this.call(() => this.client.delete(name, { wait: true, filter: toQdrantFilter(filter) ?? {} }));
    return matching;
  }

  async deleteIds(name: string, ids: readonly string[]): Promise<void> {
    validateIds(ids);
    validateCollectionName(name);
    if (ids.length === 0) return;
    await this.call(() => this.client.delete(name, { wait: true, points: ids.map(pointUuid) }));
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const offset = validateSearch(request, await this.dimension(name));
    const filter = toQdrantFilter(request.filter);
    const dense = request.dense && Array.from(request.dense);
    const sparse = request.sparse && { indices: [...request.sparse.indices], values: [...request.sparse.values] };
    const common = { limit: request.limit, offset, with_payload: true, ...(filter ? { filter } : {}) };
    const params = request.ef ? { params: { hnsw_ef: request.ef } } : {};
    let body: Parameters<QdrantClient['query']>[1];
    switch (request.mode) {
      case 'dense':
        body = { ...common, ...params, query: dense!, using: 'dense' };
        break;
      case 'sparse':
        body = { ...common, query: sparse!, using: 'sparse' };
        break;
      case 'hybrid': {
        const candidates = prefetchLimit(request.limit, offset);
        const branch = (query: unknown, using: string) => ({ query, using, limit: candidates, ...(filter ? { filter } : {}) });
        body = { ...common, prefetch: [{ ...branch(dense, 'dense'), ...params }, branch(sparse, 'sparse')] as never, query: { rrf: { k: RRF_K } } };
        break;
      }
      default:
        throw new VectorStoreError('INVALID_ARGUMENT', `unknown search mode ${JSON.stringify(request.mode)}`);
    }
    const result = await this.call(() => this.client.query(name, body));
    return result.points.map((point) => {
      const { [ID_KEY]: id, ...payload } = (point.payload ?? {}) as Record<string, unknown>;
      return { id: String(id), score: point.score, payload };
    });
  }

  async count(name: string, filter?: PayloadFilter): Promise<number> {
    validateCollectionName(name);
    validateFilter(filter);
    const qfilter = toQdrantFilter(filter);
    const result = await this.call(() => this.client.count(name, { exact: true, ...(qfilter ? { filter: qfilter } : {}) }));
    return result.count;
  }

  async info(name: string): Promise<CollectionInfo | undefined> {
    validateCollectionName(name);
    const exists = await this.call(() => this.client.collectionExists(name));
    if (!exists.exists) return undefined;
    const collection = await this.call(() => this.client.getCollection(name));
    const metadata = (collection.config as { metadata?: Record<string, unknown> | null }).metadata ?? {};
    const vectors = collection.config.params.vectors as Record<string, { size?: number }> | undefined;
    return {
      embedderId: typeof metadata['embedderId'] === 'string' ? metadata['embedderId'] : '',
      dimension: vectors?.['dense']?.size ?? 0,
      points: collection.points_count ?? 0,
    };
  }

  async drop(name: string): Promise<void> {
    validateCollectionName(name);
    this.dimensions.delete(name);
    await this.call(() => this.client.deleteCollection(name));
  }

  async flush(): Promise<void> {
    // Every write already waited for Qdrant to apply it (wait: true).
  }

  async close(): Promise<void> {
    this.dimensions.clear();
  }

  private async dimension(name: string): Promise<number> {
    validateCollectionName(name);
    const known = this.dimensions.get(name);
    if (known !== undefined) return known;
    const info = await this.info(name);
    if (!info) throw new VectorStoreError('COLLECTION_NOT_FOUND', `vector collection "${name}" does not exist`);
    this.dimensions.set(name, info.dimension);
    return info.dimension;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 404) throw new VectorStoreError('COLLECTION_NOT_FOUND', 'vector collection does not exist', { cause: error });
      throw unavailable(error);
    }
  }
}
