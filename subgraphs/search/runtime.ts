/**
 * Builds the search service's parts from its context: store, vector collection, embedder,
 * indexers, the title index and the query service. Shared by the server (index.ts) and the
 * reindex command, so both index the same way into the same collection.
 */
import { createHash } from 'node:crypto';
import type { FolioConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import { databaseName, type ServiceContext } from '../../lib/service.js';
import { createObjectStore } from '../../lib/objectStore.js';
import { acquireWorkerPool } from '../../lib/workers/index.js';
import { createVectorStore, EmbeddedVectorStore, VectorStoreError, type VectorStore } from '../../lib/vectors/index.js';
import { BookTitleIndex } from './bookTitles.js';
import { httpCatalogClient, type CatalogClient } from './catalogClient.js';
import { createEmbedder } from './core/embedder.js';
import { analyzer, chunker, learnBookWords, portEmbedder, sparseEncoder } from './engine.js';
import { BookIndexer, PARAGRAPH_PAYLOAD_INDEXES } from './indexer.js';
import { NotesIndexer } from './notes.js';
import { offThreadEmbedder, offThreadRevisionLoader } from './offThread.js';
import type { Embedder, PrivateIndexes } from './ports.js';
import { objectStorePrivateIndexes } from './privateIndexes.js';
import { SearchService } from './service.js';
import { openSearchStore, type SearchStore } from './store.js';

export interface SearchRuntime {
  readonly config: FolioConfig;
  readonly logger: Logger;
  readonly store: SearchStore;
  readonly vectors: VectorStore;
  readonly collection: string;
  readonly embedder: Embedder;
  readonly catalog: CatalogClient;
  readonly indexer: BookIndexer;
  readonly notes: NotesIndexer;
  readonly privateIndexes: PrivateIndexes;
  readonly titles: BookTitleIndex;
  readonly service: SearchService;
  /** True when the collection was missing or corrupt and had to be created empty. */
  readonly recreated: boolean;
  close(): Promise<void>;
}

/** One collection per embedder: a new embedder starts an empty collection (and a rebuild) instead of mixing vectors. */
export const paragraphCollection = (embedderId: string): string => `paragraphs_${createHash('sha256').update(embedderId).digest('hex').slice(0, 12)}`;

/** Opens the collection; a corrupt embedded one is dropped and recreated empty (the index is derived data). */
async function openCollection(vectors: VectorStore, name: string, embedder: Embedder, logger: Logger): Promise<boolean> {
  const options = { dimension: embedder.dimension, embedderId: embedder.id, payloadIndexes: [...PARAGRAPH_PAYLOAD_INDEXES] };
  let existed: boolean;
  try {
    existed = (await vectors.info(name)) !== undefined;
  } catch (error) {
    if (!(error instanceof VectorStoreError && error.code === 'INDEX_CORRUPT' && vectors instanceof EmbeddedVectorStore)) throw error;
    logger.warn({ err: error, collection: name }, 'the paragraph index is corrupt; rebuilding it');
    await vectors.drop(name);
    existed = false;
  }
  await vectors.ensureCollection(name, options);
  return !existed;
}

export async function openSearchRuntime(context: ServiceContext): Promise<SearchRuntime> {
  const { config, storage, serviceUrls } = context;
  const logger = context.logger.child({ service: 'search' });
  const store = await openSearchStore(storage.db(databaseName('search')));
  const vectors = await createVectorStore(config);
  const coreEmbedder = createEmbedder(config);
  const workers = acquireWorkerPool(config.workerThreads);
  const embedder = portEmbedder(offThreadEmbedder(coreEmbedder, workers));
  const collection = paragraphCollection(embedder.id);
  const recreated = await openCollection(vectors, collection, embedder, logger);
  const titles = new BookTitleIndex(analyzer);
  for await (const book of store.books.find({ state: { $ne: 'REMOVED' } })) {
    learnBookWords(book.title, book.authors);
    titles.apply(book);
  }
  const catalog = httpCatalogClient(config.internalSecret, () => serviceUrls.catalog);
  const indexer = new BookIndexer({
    store,
    vectors,
    collection,
    catalog,
    embedder,
    sparse: sparseEncoder,
    chunker,
    logger,
    ...(workers.threads > 0 ? { loadRevision: offThreadRevisionLoader(workers, config.internalSecret, () => serviceUrls.catalog) } : {}),
    onBookChanged: (doc) => {
      learnBookWords(doc.title, doc.authors);
      titles.apply(doc);
    },
  });
  const privateIndexes = objectStorePrivateIndexes({ store: createObjectStore(config), embedder: coreEmbedder, maxCacheBytes: config.privateIndexCacheBytes, logger });
  const notes = new NotesIndexer(privateIndexes, logger);
  const service = new SearchService({ store, vectors, collection, analyzer, embedder, sparse: sparseEncoder, titles, privateIndexes, llm: config.llm, logger });
  return {
    config,
    logger,
    store,
    vectors,
    collection,
    embedder,
    catalog,
    indexer,
    notes,
    privateIndexes,
    titles,
    service,
    recreated,
    async close() {
      await vectors.close();
      await workers.release();
      await coreEmbedder.close?.();
    },
  };
}
