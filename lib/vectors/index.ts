/**
 * Public API of the vector seam. Business code imports from here only; nothing outside
 * lib/vectors imports usearch or @qdrant/js-client-rest.
 */
import path from 'node:path';
import type { FolioConfig } from '../config.js';
import { EmbeddedVectorStore } from './embedded.js';
import type { EmbeddedVectorStoreOptions } from './embedded.js';
import { QdrantVectorStore } from './qdrant.js';
import type { VectorStore } from './types.js';

export type { PayloadFilter, SearchHit, SearchMode, SearchRequest, SparseVector, VectorPoint, VectorStore } from './types.js';
export { VectorStoreError } from './types.js';
export { EmbeddedVectorStore, resolveTuning } from './embedded.js';
export type { EmbeddedVectorStoreOptions } from './embedded.js';
export { QdrantVectorStore } from './qdrant.js';
export { FlatIndex } from './flat.js';
export { reciprocalRankFusion } from './fusion.js';

/** Qdrant when QDRANT_URL is set, else the embedded index under `<FOLIO_DATA_DIR>/vectors`. */
export async function createVectorStore(
  config: Pick<FolioConfig, 'qdrant' | 'dataDir'>,
  embedded: Omit<EmbeddedVectorStoreOptions, 'directory'> = {},
): Promise<VectorStore> {
  if (config.qdrant) return new QdrantVectorStore({ url: config.qdrant.url, apiKey: config.qdrant.apiKey });
  return EmbeddedVectorStore.open({ ...embedded, directory: path.join(config.dataDir, 'vectors') });
}
export { exactCosineTopK, usearchVersion } from './exact.js';
