/**
 * The thread that owns one collection's HNSW graph (hnswGraph.ts, ThreadGraph). Plain JavaScript:
 * it needs nothing but USearch, so it runs under any loader (tsx, vitest, plain node). Messages
 * are handled one at a time, in order; each gets exactly one reply with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Index } from 'usearch';

const index = new Index(workerData.config);

parentPort.on('message', ({ id, op, ...args }) => {
  try {
    let result;
    if (op === 'add') index.add(args.keys, args.vectors, args.threads);
    else if (op === 'remove') index.remove(args.keys);
    else if (op === 'search') {
      const m = index.search(args.query, args.k, 1);
      result = { keys: m.keys, distances: m.distances };
    } else if (op === 'size') result = index.size();
    else if (op === 'save') index.save(args.file);
    else if (op === 'load') index.load(args.file);
    else throw new Error(`unknown graph operation ${String(op)}`);
    parentPort.postMessage({ id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, message: String(error?.message ?? error) });
  }
});
