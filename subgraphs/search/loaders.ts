/**
 * Per-request DataLoaders. `readable` batches every readable-book check of one request into one
 * call to catalog's access check (`POST /internal/access`, through policy.ts), however many fields ask.
 */
import type DataLoader from 'dataloader';
import type { Caller } from '../../lib/identity.js';
import type { CatalogClient } from './catalogClient.js';
import { readableCheck } from './policy.js';
import type { ReadableCheck } from './service.js';

export interface SearchLoaders {
  readonly readable: DataLoader<string, boolean>;
  /** The loader as the service takes it. */
  readonly readableCheck: ReadableCheck;
}

export function createLoaders(catalog: CatalogClient, caller: Caller): SearchLoaders {
  const { loader, check } = readableCheck(catalog, caller);
  return { readable: loader, readableCheck: check };
}
