/**
 * Per-user private indexes for the ports: each user's notes in a FlatIndex (exact; thousands of
 * items, not millions). TODO(core): replace with core's object-store-backed LRU once it lands;
 * until then the indexes live in memory only.
 */
import { FlatIndex } from '../../lib/vectors/index.js';
import type { Embedder, PrivateIndexes, SparseEncoder } from './ports.js';

export function memoryPrivateIndexes(embedder: Embedder, sparse: SparseEncoder): PrivateIndexes {
  const users = new Map<string, FlatIndex>();
  const indexOf = (userId: string): FlatIndex => {
    let index = users.get(userId);
    if (!index) users.set(userId, (index = new FlatIndex(embedder.id, embedder.dimension)));
    return index;
  };
  return {
    async upsert(userId, items) {
      const dense = await embedder.embed(items.map((i) => i.text));
      indexOf(userId).upsert(items.map((item, i) => ({ id: item.id, dense: dense[i]!, sparse: sparse.document(item.text), payload: item.payload })));
    },
    async remove(userId, ids) {
      users.get(userId)?.deleteIds(ids);
    },
    async search(userId, query) {
      const index = users.get(userId);
      if (!index || index.size === 0) return [];
      const needsSparse = query.mode !== 'dense';
      const sparseQuery = needsSparse ? sparse.query(query.text) : undefined;
      const mode = sparseQuery && sparseQuery.indices.length === 0 ? 'dense' : query.mode;
      if (mode === 'sparse' && !sparseQuery?.indices.length) return [];
      const dense = mode === 'sparse' ? undefined : (await embedder.embed([query.text]))[0];
      return index.search({ mode, limit: query.limit, ...(dense ? { dense } : {}), ...(mode !== 'dense' && sparseQuery ? { sparse: sparseQuery } : {}), ...(query.filter ? { filter: query.filter } : {}) });
    },
    async clear() {
      users.clear();
    },
    async close() {
      users.clear();
    },
  };
}
