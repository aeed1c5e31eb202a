/**
 * The embedded backend: USearch HNSW + an in-process sparse index, persisted under a directory.
 * Reads are synchronous in memory; writes are serialised with saves so a save never sees a
 * half-applied batch. Durable on flush()/close(), which appends the changes to the collection's log
 * or, once that has grown, saves it whole (embeddedFiles.ts; the index is derived data: what a
 * crash loses since the last flush is rebuilt by the reindex command).
 */
import { availableParallelism } from 'node:os';
import { mkdir, rm } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import path from 'node:path';
import { EmbeddedCollection } from './embeddedCollection.js';
import type { HnswTuning } from './embeddedCollection.js';
import { openGraph } from './hnswGraph.js';
import { collectionExists, loadCollection, persistCollection, saveCollection } from './embeddedFiles.js';
import { validateFilter } from './filter.js';
import type { CollectionInfo, CollectionOptions, PayloadFilter, SearchHit, SearchRequest, VectorPoint, VectorStore } from './types.js';
import { VectorStoreError } from './types.js';
import { validateBatch, validateCollectionName, validateCollectionOptions, validateIds, validatePoint, validateSearch } from './validate.js';

export interface EmbeddedVectorStoreOptions {
  /** Directory holding one folder per collection. */
  readonly directory: string;
  /** Scalar type of the HNSW graph. @default 'f16' (bench: same recall as f32, half the memory) */
  readonly quantization?: 'f16' | 'f32';
  /** HNSW M. @default 16 */
  readonly connectivity?: number;
  /** ef at build time. @default 128 (bench/results/vectors-*.md: 64 left recall at 0.75 at 1M) */
  readonly expansionAdd?: number;
  /** ef at query time; a request may ask for more with `ef`. @default 256 (1M bench: recall@10 0.947 at 128, 0.95 at 256, p99 3.2 ms) */
  readonly expansionSearch?: number;
  /** Filtered candidate sets up to this size are searched exactly. @default 10000 */
  readonly exactSearchThreshold?: number;
  /** Threads for batch inserts. @default os.availableParallelism() */
  readonly threads?: number;
  /**
   * Keep each collection's HNSW graph on its own worker thread (hnswGraph.ts): inserts and saves
   * then never block this event loop. @default false (the graph lives on the calling thread)
   */
  readonly graphThread?: boolean;
}

/** Fills the documented defaults into a concrete tuning. */
export function resolveTuning(options: Omit<EmbeddedVectorStoreOptions, 'directory'>): HnswTuning {
  return {
    quantization: options.quantization ?? 'f16',
    connectivity: options.connectivity ?? 16,
    expansionAdd: options.expansionAdd ?? 128,
    expansionSearch: options.expansionSearch ?? 256,
    exactSearchThreshold: options.exactSearchThreshold ?? 10_000,
    threads: options.threads ?? availableParallelism(),
  };
}

/**
 * Points per slice of an upsert, and the event-loop time after which it yields. On the calling
 * thread each slice is a synchronous HNSW insert (~0.5 ms a point), hence small; with a graph
 * thread a slice only places payloads and sparse vectors here.
 */
const UPSERT_SLICE = 8;
const UPSERT_SLICE_THREAD = 64;
const UPSERT_SLICE_BUDGET_MS = 10;

export class EmbeddedVectorStore implements VectorStore {
  private readonly collections = new Map<string, Promise<EmbeddedCollection | undefined>>();
  private readonly tuning: HnswTuning;
  private readonly graphThread: boolean;
  /** Tail of the write queue: writes and saves run one at a time. */
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly directory: string,
    options: EmbeddedVectorStoreOptions,
  ) {
    this.tuning = resolveTuning(options);
    this.graphThread = options.graphThread ?? false;
  }

  static async open(options: EmbeddedVectorStoreOptions): Promise<EmbeddedVectorStore> {
    const directory = path.resolve(options.directory);
    await mkdir(directory, { recursive: true });
    return new EmbeddedVectorStore(directory, options);
  }

  async ensureCollection(name: string, options: CollectionOptions): Promise<void> {
    validateCollectionName(name);
    validateCollectionOptions(options);
    await this.exclusive(async () => {
      const existing = await this.load(name);
      if (existing) {
        const { embedderId, dimension } = existing.meta;
        if (embedderId !== options.embedderId || dimension !== options.dimension) {
          throw new VectorStoreError(
            'EMBEDDER_MISMATCH',
            `collection "${name}" holds vectors of ${embedderId} (${dimension} dims), not ${options.embedderId} (${options.dimension} dims); reindex into a new collection`,
          );
        }
        for (const key of options.payloadIndexes ?? []) existing.addPayloadIndex(key);
        return;
      }
      const meta = { embedderId: options.embedderId, dimension: options.dimension, payloadIndexes: [...(options.payloadIndexes ?? [])] };
      const collection = new EmbeddedCollection(meta, openGraph(options.dimension, this.tuning, this.graphThread), this.tuning);
      try {
        await saveCollection(this.dirOf(name), collection);
      } catch (error) {
        await collection.hnsw.close();
        throw error;
      }
      this.collections.set(name, Promise.resolve(collection));
    });
  }

  async upsert(name: string, points: readonly VectorPoint[]): Promise<void> {
    await this.exclusive(async () => {
      const collection = await this.require(name);
      const slice = collection.hnsw.offThread ? UPSERT_SLICE_THREAD : UPSERT_SLICE;
      let sliceStart = performance.now();
      const pace = async (): Promise<void> => {
        if (performance.now() - sliceStart < UPSERT_SLICE_BUDGET_MS) return;
        await yieldToEventLoop();
        sliceStart = performance.now();
      };
      // Every point is checked before the first is written (an invalid one refuses the whole
      // upsert), in slices too: 10,000 points of 4,096 dims are 40 million values to look at.
      validateBatch(points);
      for (let i = 0; i < points.length; i += slice) {
        await pace();
        for (const point of points.slice(i, i + slice)) validatePoint(point, collection.meta.dimension);
      }
      // HNSW insertion is synchronous native work (~0.5 ms a point): on this thread a large batch
      // in one call would stall the event loop, so insert in small slices and let other work run
      // between them (reads see each slice whole; saves wait, as this runs in the write queue).
      // A graph thread inserts while this loop goes on: its slices are only awaited at the end.
      const graphed: Array<Promise<void>> = [];
      try {
        for (let i = 0; i < points.length; i += slice) {
          await pace();
          graphed.push(collection.upsert(points.length <= slice ? points : points.slice(i, i + slice)));
        }
      } finally {
        await Promise.allSettled(graphed);
      }
      await Promise.all(graphed);
    });
  }

  async delete(name: string, filter: PayloadFilter): Promise<number> {
    validateFilter(filter);
    return this.exclusive(async () => await (await this.require(name)).deleteByFilter(filter));
  }

  async deleteIds(name: string, ids: readonly string[]): Promise<void> {
    validateIds(ids);
    await this.exclusive(async () => (await this.require(name)).deleteIds(ids));
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const collection = await this.require(name);
    const offset = validateSearch(request, collection.meta.dimension);
    return collection.search(request, offset);
  }

  async count(name: string, filter?: PayloadFilter): Promise<number> {
    validateFilter(filter);
    return (await this.require(name)).count(filter);
  }

  async info(name: string): Promise<CollectionInfo | undefined> {
    validateCollectionName(name);
    const collection = await this.load(name);
    return collection && { embedderId: collection.meta.embedderId, dimension: collection.meta.dimension, points: collection.size };
  }

  /** Deletes a collection and its files (the first step of a rebuild). */
  async drop(name: string): Promise<void> {
    validateCollectionName(name);
    await this.exclusive(async () => {
      const pending = this.collections.get(name);
      this.collections.delete(name);
      await (await pending?.catch(() => undefined))?.hnsw.close();
      await rm(this.dirOf(name), { recursive: true, force: true });
    });
  }

  async flush(): Promise<void> {
    await this.exclusive(async () => {
      for (const [name, pending] of this.collections) {
        const collection = await pending.catch(() => undefined);
        if (collection?.dirty) await persistCollection(this.dirOf(name), collection);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    for (const pending of this.collections.values()) await (await pending.catch(() => undefined))?.hnsw.close();
    this.collections.clear();
  }

  // ---------------------------------------------------------------------------------------------

  private dirOf(name: string): string {
    return path.join(this.directory, name);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new VectorStoreError('BACKEND_UNAVAILABLE', 'the vector store is closed'));
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Loads a collection once; a corrupt one rejects every call until it is dropped. */
  private load(name: string): Promise<EmbeddedCollection | undefined> {
    if (this.closed) return Promise.reject(new VectorStoreError('BACKEND_UNAVAILABLE', 'the vector store is closed'));
    let pending = this.collections.get(name);
    if (!pending) {
      const dir = this.dirOf(name);
      pending = collectionExists(dir).then((exists) => (exists ? loadCollection(dir, name, this.tuning, this.graphThread) : undefined));
      this.collections.set(name, pending);
      // Forget "does not exist" so a collection created by another store instance is seen later.
      const loading = pending;
      void loading.then(
        (c) => c === undefined && this.collections.get(name) === loading && this.collections.delete(name),
        () => undefined,
      );
    }
    return pending;
  }

  private async require(name: string): Promise<EmbeddedCollection> {
    validateCollectionName(name);
    const collection = await this.load(name);
    if (!collection) throw new VectorStoreError('COLLECTION_NOT_FOUND', `vector collection "${name}" does not exist`);
    return collection;
  }
}
