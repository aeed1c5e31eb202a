/**
 * Per-request DataLoaders. `readable` batches every readable-book check of one request into one
 * call to catalog (`POST /internal/books/readable`), however many fields ask.
 */
import DataLoader from 'dataloader';
import { FolioError } from '../../lib/errors.js';
import type { Caller } from '../../lib/identity.js';
import type { CatalogClient } from './catalogClient.js';
import type { ReadableCheck } from './service.js';

export interface SearchLoaders {
  readonly readable: DataLoader<string, boolean>;
  /** The loader as the service takes it. */
  readonly readableCheck: ReadableCheck;
}

export function createLoaders(catalog: CatalogClient, caller: Caller): SearchLoaders {
  const readable = new DataLoader<string, boolean>(async (ids) => {
    const allowed = await catalog.readableBooks(ids, caller);
    return ids.map((id) => allowed.has(id));
  }, { maxBatchSize: 2_000 });
  return {
    readable,
    readableCheck: async (ids) => {
      const flags = await readable.loadMany(ids);
      // Fail closed, and say so: an empty result would tell the client that nothing matched.
      const failure = flags.find((flag) => flag instanceof Error);
      if (failure) {
        throw new FolioError('SERVICE_UNAVAILABLE', 'Search cannot check which books you may read right now (catalog is unavailable); retry later.', { cause: failure });
      }
      return new Set(ids.filter((_, i) => flags[i] === true));
    },
  };
}
