/**
 * The HNSW graph of an embedded collection (private to lib/vectors), behind one async interface
 * with two homes:
 * - inline: a USearch index on the calling thread. Every insert, search and save is a synchronous
 *   native call on the event loop (the fallback, and the "off" arm of bench:isolation);
 * - thread: the index lives in a dedicated worker thread (hnswThread.worker.mjs) that owns it.
 *   Inserts (~0.5 ms a point: 90 % of the event loop's CPU while a 100,000-paragraph book was
 *   indexed) and `save` (one native call of hundreds of ms that cannot be sliced) run there, so
 *   the request loop only copies vectors in and results out.
 * The thread handles messages one at a time in the order sent, so a search sent after an insert
 * or a removal sees it, and a save sees every insert sent before it. Keys are slots.
 */
import { Worker } from 'node:worker_threads';
import { Index, MetricKind, ScalarKind } from 'usearch';
import type { Matches } from 'usearch';
import type { HnswTuning } from './embeddedCollection.js';
import { VectorStoreError } from './types.js';

export interface GraphMatches {
  readonly keys: BigUint64Array;
  readonly distances: Float32Array;
}

export interface HnswGraph {
  /** True when the graph lives on its own thread (inserts need no slicing on the caller's loop). */
  readonly offThread: boolean;
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): Promise<void>;
  remove(keys: BigUint64Array): Promise<void>;
  search(query: Float32Array, k: number): Promise<GraphMatches>;
  size(): Promise<number>;
  save(file: string): Promise<void>;
  load(file: string): Promise<void>;
  /** Frees the graph (ends its thread); later calls reject. */
  close(): Promise<void>;
}

/** USearch's constructor configuration (plain data: it crosses to the graph thread). */
export function indexConfig(dimension: number, tuning: Pick<HnswTuning, 'quantization' | 'connectivity' | 'expansionAdd' | 'expansionSearch'>) {
  return {
    dimensions: dimension,
    metric: MetricKind.Cos,
    quantization: tuning.quantization === 'f16' ? ScalarKind.F16 : ScalarKind.F32,
    connectivity: tuning.connectivity,
    expansion_add: tuning.expansionAdd,
    expansion_search: tuning.expansionSearch,
    multi: false,
  };
}

export function openGraph(dimension: number, tuning: HnswTuning, offThread: boolean): HnswGraph {
  const config = indexConfig(dimension, tuning);
  return offThread ? new ThreadGraph(config) : new InlineGraph(new Index(config));
}

class InlineGraph implements HnswGraph {
  readonly offThread = false;
  constructor(private readonly index: Index) {}
  async add(keys: BigUint64Array, vectors: Float32Array, threads: number): Promise<void> {
    this.index.add(keys, vectors, threads);
  }
  async remove(keys: BigUint64Array): Promise<void> {
    this.index.remove(keys);
  }
  async search(query: Float32Array, k: number): Promise<GraphMatches> {
    const m = this.index.search(query, k, 1) as Matches;
    return { keys: m.keys, distances: m.distances };
  }
  async size(): Promise<number> {
    return this.index.size();
  }
  async save(file: string): Promise<void> {
    this.index.save(file);
  }
  async load(file: string): Promise<void> {
    this.index.load(file);
  }
  async close(): Promise<void> {}
}

type Op =
  | { op: 'add'; keys: BigUint64Array; vectors: Float32Array; threads: number }
  | { op: 'remove'; keys: BigUint64Array }
  | { op: 'search'; query: Float32Array; k: number }
  | { op: 'size' }
  | { op: 'save'; file: string }
  | { op: 'load'; file: string };

type Reply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; message: string };

const WORKER = new URL('./hnswThread.worker.mjs', import.meta.url);

class ThreadGraph implements HnswGraph {
  readonly offThread = true;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  private nextId = 0;
  /** Set once the thread is gone (closed or crashed): every call rejects with it. */
  private dead: VectorStoreError | undefined;

  constructor(config: ReturnType<typeof indexConfig>) {
    this.worker = new Worker(WORKER, { workerData: { config } });
    // Only a thread with work in flight keeps the process alive (see call()).
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.message));
    });
    const lost = (why: string, cause?: unknown): void => {
      this.dead ??= new VectorStoreError('BACKEND_UNAVAILABLE', `the HNSW graph thread ${why}`, { cause });
      for (const waiter of this.pending.values()) waiter.reject(this.dead);
      this.pending.clear();
    };
    this.worker.on('error', (error) => lost('failed', error));
    this.worker.on('exit', (code) => lost(`exited (${code})`));
  }

  add(keys: BigUint64Array, vectors: Float32Array, threads: number): Promise<void> {
    // The batch is built for this call only: transfer it rather than copy it.
    return this.call({ op: 'add', keys, vectors, threads }, [keys.buffer as ArrayBuffer, vectors.buffer as ArrayBuffer]) as Promise<void>;
  }
  remove(keys: BigUint64Array): Promise<void> {
    return this.call({ op: 'remove', keys }) as Promise<void>;
  }
  search(query: Float32Array, k: number): Promise<GraphMatches> {
    return this.call({ op: 'search', query, k }) as Promise<GraphMatches>;
  }
  size(): Promise<number> {
    return this.call({ op: 'size' }) as Promise<number>;
  }
  save(file: string): Promise<void> {
    return this.call({ op: 'save', file }) as Promise<void>;
  }
  load(file: string): Promise<void> {
    return this.call({ op: 'load', file }) as Promise<void>;
  }
  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = new VectorStoreError('BACKEND_UNAVAILABLE', 'the HNSW graph is closed');
    await this.worker.terminate();
  }

  private call(message: Op, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }
}
