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

/**
 * Qdrant when QDRANT_URL is set, else the embedded index under `<FOLIO_DATA_DIR>/vectors`, with
 * its HNSW graphs on their own threads unless worker threads are off (FOLIO_WORKER_THREADS=0).
 */
export async function createVectorStore(
  config: Pick<FolioConfig, 'qdrant' | 'dataDir'> & Partial<Pick<FolioConfig, 'workerThreads'>>,
  embedded: Omit<EmbeddedVectorStoreOptions, 'directory'> = {},
): Promise<VectorStore> {
  if (config.qdrant) return new QdrantVectorStore({ url: config.qdrant.url, apiKey: config.qdrant.apiKey });
  const graphThread = (config.workerThreads ?? 0) > 0;
  return EmbeddedVectorStore.open({ graphThread, ...embedded, directory: path.join(config.dataDir, 'vectors') });
}
export { exactCosineTopK, usearchVersion } from './exact.js';
