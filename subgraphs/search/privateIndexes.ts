/**
 * The PrivateIndexes port over core's PrivateIndexService (per-user FlatIndex objects in the
 * object store, LRU-cached). Our payload travels nested under `meta`, because core stamps its own
 * `kind`, `bookId` and `text` onto the item payload.
 */
import type { Logger } from '../../lib/logger.js';
import type { ObjectStore } from '../../lib/objectStore.js';
import type { Embedder as CoreEmbedder } from './core/embedder.js';
import { PrivateIndexService } from './core/privateIndex.js';
import type { PrivateIndexes } from './ports.js';

/** Core bounds item text at 20,000 characters. */
const MAX_ITEM_CHARS = 20_000;

export function objectStorePrivateIndexes(options: { store: ObjectStore; embedder: CoreEmbedder; maxCacheBytes: number; logger: Logger }): PrivateIndexes {
  const service = new PrivateIndexService({
    store: options.store,
    embedder: options.embedder,
    maxCacheBytes: options.maxCacheBytes,
    // The source of truth is ugc; `npm run reindex` replays its feed into fresh indexes.
    onStale: (userId, reason) => options.logger.warn({ userId, reason }, 'private index unusable; starting empty until `npm run reindex`'),
  });
  return {
    async upsert(userId, items) {
      await service.upsert(
        userId,
        items.map((item) => ({
          id: item.id,
          kind: item.payload.kind === 'HIGHLIGHT' ? 'highlight' : 'note',
          text: item.text.slice(0, MAX_ITEM_CHARS),
          bookId: String(item.payload.bookId),
          payload: { meta: item.payload },
        })),
      );
    },
    remove: (userId, ids) => service.remove(userId, ids),
    async search(userId, query) {
      const hits = await service.search(userId, query.text, { mode: query.mode, limit: query.limit });
      return hits.map((hit) => ({ ...hit, payload: (hit.payload.meta ?? {}) as Record<string, unknown> }));
    },
    purge: (userId) => service.purge(userId),
  };
}
