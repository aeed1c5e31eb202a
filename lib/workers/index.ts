/**
 * One pool of worker threads per process for CPU-heavy pure functions (EPUB parsing, embedding):
 * the request event loop only hands over input and takes back output, so a large upload cannot
 * stall every request in the process. A task is a named export of a module (a file URL);
 * it runs in a pool thread, or on the calling thread when the pool has 0 threads
 * (FOLIO_WORKER_THREADS=0: the fallback, and the "before" arm of bench:isolation).
 *
 * A task's input and output cross threads by structured clone: plain data, typed arrays and
 * MessagePorts (listed in `transfer`); class instances arrive as plain objects and thrown errors
 * lose their class, so tasks report expected failures in their result instead of throwing them.
 */
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';

export interface WorkerTask {
  /** File URL of the module (`new URL('./x.ts', import.meta.url).href`). */
  readonly module: string;
  /** Name of the exported function: `(input) => output | Promise<output>`. */
  readonly name: string;
}

export interface WorkerPool {
  /** Pool threads; 0 means tasks run on the calling thread. */
  readonly threads: number;
  run<T>(task: WorkerTask, input: unknown, transfer?: readonly MessagePort[]): Promise<T>;
}

interface SharedPool {
  readonly pool: Piscina;
  refs: number;
}

const pools = new Map<number, SharedPool>();
const ENTRY = new URL('./entry.mjs', import.meta.url).href;

/** An idle thread exits after this long; the first task after that pays a thread start (~0.5 s with tsx). */
const IDLE_TIMEOUT_MS = 60_000;

const inline: WorkerPool = {
  threads: 0,
  async run<T>(task: WorkerTask, input: unknown): Promise<T> {
    const loaded = (await import(task.module)) as Record<string, unknown>;
    const fn = loaded[task.name];
    if (typeof fn !== 'function') throw new TypeError(`${task.module} exports no function named ${task.name}`);
    return (await fn(input)) as T;
  },
};

/**
 * The process's pool of `threads` threads, shared by every service in the process (so the
 * platform never runs more than `threads` of them); `release()` once per acquire, and the
 * last release destroys it.
 */
export function acquireWorkerPool(threads: number): WorkerPool & { release(): Promise<void> } {
  if (threads === 0) return { ...inline, release: async () => undefined };
  let shared = pools.get(threads);
  if (!shared) {
    shared = {
      pool: new Piscina({ filename: ENTRY, minThreads: 1, maxThreads: threads, idleTimeout: IDLE_TIMEOUT_MS }),
      refs: 0,
    };
    pools.set(threads, shared);
  }
  shared.refs += 1;
  const { pool } = shared;
  let released = false;
  return {
    threads,
    run: <T>(task: WorkerTask, input: unknown, transfer: readonly MessagePort[] = []): Promise<T> =>
      pool.run({ module: task.module, name: task.name, input }, transfer.length > 0 ? { transferList: [...transfer] } : {}) as Promise<T>,
    async release() {
      if (released) return;
      released = true;
      const current = pools.get(threads);
      if (!current || current.pool !== pool || --current.refs > 0) return;
      pools.delete(threads);
      await pool.destroy();
    },
  };
}

/**
 * A pool of its own with one thread that stays up, for a component whose state is too large to
 * load in every shared thread and reload after each idle exit (a sentence-embedding model): the
 * caller serialises its tasks and so decides their order. Idle, the thread does not keep the
 * process alive; `release()` ends it.
 */
export function dedicatedWorker(): WorkerPool & { release(): Promise<void> } {
  const pool = new Piscina({ filename: ENTRY, minThreads: 1, maxThreads: 1 });
  return {
    threads: 1,
    run: <T>(task: WorkerTask, input: unknown, transfer: readonly MessagePort[] = []): Promise<T> =>
      pool.run({ module: task.module, name: task.name, input }, transfer.length > 0 ? { transferList: [...transfer] } : {}) as Promise<T>,
    release: () => pool.destroy(),
  };
}
