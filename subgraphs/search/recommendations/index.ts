/**
 * Recommendations inside the search subgraph (the book vectors' embedder and the readable check
 * are here): its store, the in-memory source, the service, the feeds' handlers and consumers,
 * and the rebuild `npm run reindex` runs.
 */
import { EventConsumer, type FolioEvent } from '../../../lib/events.js';
import type { LeaseManager } from '../../../lib/leases.js';
import type { InternalTarget } from '../../../lib/signing.js';
import { acquireWorkerPool } from '../../../lib/workers/index.js';
import { chunker } from '../engine.js';
import { withGiveUp } from '../index.js';
import { chunkRevision, type PreparedRevision } from '../indexer.js';
import { offThreadRevisionLoader } from '../offThread.js';
import { foldBookEvents, readFeed, type ReindexProgress } from '../reindex.js';
import type { SearchRuntime } from '../runtime.js';
import { httpUgcClient } from '../ugcClient.js';
import { RecommendationFeed } from './feed.js';
import { StoredRecSource } from './model.js';
import { RecommendationService } from './service.js';
import { openRecommendationStore, type RecommendationStore } from './store.js';

export const REC_CATALOG_CONSUMER = 'search-recommendations-books';
export const REC_UGC_CONSUMER = 'search-recommendations-ugc';

export interface Recommendations {
  readonly store: RecommendationStore;
  readonly source: StoredRecSource;
  readonly service: RecommendationService;
  readonly feed: RecommendationFeed;
  close(): Promise<void>;
}

/** `ugcUrl`: where to ask for a reader's shelf at request time (omitted where nothing is served: the reindex script). */
export async function openRecommendations(runtime: SearchRuntime, catalogUrl: () => string, ugcUrl?: () => string): Promise<Recommendations> {
  const { config, embedder, catalog, logger } = runtime;
  const store = await openRecommendationStore(runtime.store.db);
  const source = new StoredRecSource(store, config.popularHighlightMinReaders, embedder.dimension, embedder.id);
  const workers = acquireWorkerPool(config.workerThreads);
  // A long book's revision is tens of MB of JSON: parsed and chunked off the event loop when there is a pool.
  const loadRevision =
    workers.threads > 0
      ? offThreadRevisionLoader(workers, config.internalSecret, catalogUrl)
      : async (revisionId: string, signal?: AbortSignal): Promise<PreparedRevision> => {
          const { chapters, ...content } = await catalog.revisionChapters(revisionId, signal);
          return { content, chunks: chunkRevision({ ...content, chapters }, chunker) };
        };
  const recLogger = logger.child({ part: 'recommendations' });
  const service = new RecommendationService({ store, source, logger: recLogger, ...(ugcUrl ? { shelf: httpUgcClient(config.internalSecret, ugcUrl) } : {}) });
  const feed = new RecommendationFeed({
    store,
    embedder,
    loadRevision,
    logger: recLogger,
    onChange: (ids) => source.invalidate(ids),
    onAccessChange: (bookId) => service.forgetBook(bookId),
    onReaderChange: (userId) => service.forgetReader(userId),
  });
  return { store, source, service, feed, close: () => workers.release() };
}

/** The two feed consumers; started by the search service after its own repair. */
export function recommendationConsumers(
  rec: Recommendations,
  options: { db: RecommendationStore['db']; leases: LeaseManager; catalogUrl: string; ugcUrl: string; secret: string; logger: SearchRuntime['logger'] },
): EventConsumer[] {
  const { db, leases, secret, logger } = options;
  const skip = async (): Promise<void> => undefined;
  return [
    new EventConsumer({
      name: REC_CATALOG_CONSUMER,
      db,
      leases,
      sourceUrl: options.catalogUrl,
      sourceName: 'catalog',
      secret,
      logger,
      batchSize: 20,
      handle: withGiveUp(logger, (event) => rec.feed.handleCatalogEvent(event), skip),
    }),
    new EventConsumer({
      name: REC_UGC_CONSUMER,
      db,
      leases,
      sourceUrl: options.ugcUrl,
      sourceName: 'ugc',
      secret,
      logger,
      handle: withGiveUp(logger, (event) => rec.feed.handleUgcEvent(event), skip),
    }),
  ];
}

export interface RecommendationRebuild {
  readonly books: number;
  readonly ugcEvents: number;
}

/**
 * Rebuilds the derived collections from both feeds: each book's final published revision (with
 * the time it was first published), then every ugc event in order. Dismissals and settings are
 * the readers' own choices, not derived, and are kept. Leaves both cursors at the end.
 */
export async function rebuildRecommendations(rec: Recommendations, sources: { catalog: InternalTarget; ugc: InternalTarget }, progress?: ReindexProgress): Promise<RecommendationRebuild> {
  const bookEvents = await readFeed(sources.catalog);
  const ugcEvents = await readFeed(sources.ugc);
  const result = await replayRecommendations(rec, bookEvents, ugcEvents, progress);
  const cursors = rec.store.db.collection<{ _id: string; seq: number; updatedAt: Date }>('event_cursors');
  await cursors.updateOne({ _id: REC_CATALOG_CONSUMER }, { $set: { seq: bookEvents.at(-1)?.seq ?? 0, updatedAt: new Date() } }, { upsert: true });
  await cursors.updateOne({ _id: REC_UGC_CONSUMER }, { $set: { seq: ugcEvents.at(-1)?.seq ?? 0, updatedAt: new Date() } }, { upsert: true });
  return result;
}

/** The rebuild on events already read: derived collections emptied, then both feeds replayed. */
export async function replayRecommendations(rec: Recommendations, bookEvents: readonly FolioEvent[], ugcEvents: readonly FolioEvent[], progress?: ReindexProgress): Promise<RecommendationRebuild> {
  const { store, feed } = rec;
  await Promise.all([store.books, store.readerBooks, store.highlights, store.pairs, store.popularity].map((c) => c.deleteMany({})));
  const firstPublished = new Map<string, string>();
  for (const e of bookEvents) if (e.type === 'BookPublished' && typeof e.payload.bookId === 'string' && !firstPublished.has(e.payload.bookId)) firstPublished.set(e.payload.bookId, e.createdAt);
  const published = [...foldBookEvents(bookEvents)].filter((entry): entry is [string, string] => entry[1] !== null);
  progress?.start('recommendations: books', published.length);
  for (const [bookId, revisionId] of published) {
    const event: FolioEvent = { seq: 0, type: 'BookPublished', payload: { bookId, revisionId }, createdAt: firstPublished.get(bookId) ?? new Date().toISOString() };
    await feed.handleCatalogEvent(event).catch(() => undefined);
    progress?.tick(bookId);
  }
  progress?.stop();
  progress?.start('recommendations: reading', ugcEvents.length);
  for (const event of ugcEvents) {
    await feed.handleUgcEvent(event);
    progress?.tick(event.type);
  }
  progress?.stop();
  rec.source.invalidate();
  rec.service.forgetAll();
  return { books: published.length, ugcEvents: ugcEvents.length };
}
