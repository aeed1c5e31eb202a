/** The search subgraph: indexing from catalog and ugc feeds, full-text + vector + hybrid retrieval, private note search, RAG. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { EventConsumer, type FolioEvent } from '../../lib/events.js';
import { workerIdentity } from '../../lib/instance.js';
import { LeaseManager } from '../../lib/leases.js';
import type { Logger } from '../../lib/logger.js';
import type { RunningService, ServiceModule } from '../../lib/service.js';
import { startSubgraphServer, storageReadiness } from '../../lib/subgraphServer.js';
import type { Resolvers } from './generated/resolvers.js';
import { createLoaders } from './loaders.js';
import { resolvers, type SearchContext } from './resolvers.js';
import { openSearchRuntime, type SearchRuntime } from './runtime.js';
import { openRecommendations, recommendationConsumers } from './recommendations/index.js';
import { recommendationResolvers } from './recommendations/resolvers.js';

export const typeDefs = parse(readFileSync(new URL('../../schema/search.graphql', import.meta.url), 'utf8'));

export const CATALOG_CONSUMER = 'search-books';
export const UGC_CONSUMER = 'search-notes';

/** Deliveries of one event before it is recorded as failed and skipped, so one bad book cannot stall the feed. */
const MAX_ATTEMPTS = 5;

/** Wraps a handler: retried by the consumer on failure, skipped (and logged) after MAX_ATTEMPTS. */
export function withGiveUp(logger: Logger, handle: (event: FolioEvent) => Promise<void>, onGiveUp: (event: FolioEvent, error: unknown) => Promise<void>) {
  const attempts = new Map<number, number>();
  return async (event: FolioEvent): Promise<void> => {
    try {
      await handle(event);
      attempts.delete(event.seq);
    } catch (error) {
      const n = (attempts.get(event.seq) ?? 0) + 1;
      attempts.set(event.seq, n);
      if (n < MAX_ATTEMPTS) throw error;
      attempts.delete(event.seq);
      logger.error({ err: error, seq: event.seq, type: event.type }, 'giving up on an event');
      await onGiveUp(event, error);
    }
  };
}

/** Resolver maps of search's parts, type by type (recommendations add to Book, User and Mutation); scalars pass as they are. */
function mergeResolvers(...maps: Resolvers[]): Resolvers {
  const merged: Record<string, unknown> = {};
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
  for (const map of maps) for (const [type, fields] of Object.entries(map)) merged[type] = plain(fields) ? { ...(merged[type] as object | undefined), ...fields } : fields;
  return merged as Resolvers;
}

/**
 * The index is derived data: when the collection was recreated, or holds fewer points than the
 * recorded progress says (writes lost in a crash), every book is re-indexed from its revision.
 */
async function repairIfNeeded(runtime: SearchRuntime, leases: LeaseManager, stopping: AbortSignal): Promise<void> {
  const { indexer, vectors, collection, logger } = runtime;
  const expected = await indexer.expectedPoints();
  const actual = (await vectors.info(collection))?.points ?? 0;
  if (!runtime.recreated && actual >= expected) return;
  if (expected === 0) return;
  const lease = await leases.tryAcquire('search:rebuild', { ttlMs: 60_000 });
  if (!lease) return;
  try {
    logger.warn({ expected, actual }, 'paragraph index incomplete; rebuilding from catalog');
    const rebuilt = await indexer.rebuildAll(AbortSignal.any([lease.signal, stopping]));
    logger.info({ books: rebuilt }, 'paragraph index rebuilt');
  } finally {
    await lease.release();
  }
}

export const searchService: ServiceModule = {
  name: 'search',
  async start(context): Promise<RunningService> {
    const { config, serviceUrls } = context;
    const runtime = await openSearchRuntime(context);
    const { logger, indexer, notes, store, service, catalog } = runtime;
    const identity = workerIdentity(config);
    const leases = new LeaseManager(store.db, 'leases', identity);
    // Feeds and rebuilds an earlier run of this instance held when it died resume now, not at lease expiry.
    await leases.releasePreviousSelf().catch((err: unknown) => logger.warn({ err }, 'could not take back leases of an earlier run; they will expire'));
    let repairing = true;
    const stopping = new AbortController();
    const rec = await openRecommendations(runtime, () => serviceUrls.catalog, () => serviceUrls.ugc);

    const server = await startSubgraphServer<SearchContext>(
      {
        name: 'search',
        typeDefs,
        resolvers: mergeResolvers(resolvers, recommendationResolvers),
        context: ({ caller }) => ({ caller, service, loaders: createLoaders(catalog, caller), recommendations: rec.service }),
        ready: async () => (repairing ? { ready: false, checks: { index: 'rebuilding' } } : storageReadiness(store.db)),
      },
      { host: config.host, port: config.subgraphPorts.search, internalSecret: config.internalSecret, opsToken: config.opsToken, logger },
    );

    const books = new EventConsumer({
      name: CATALOG_CONSUMER,
      db: store.db,
      leases,
      sourceUrl: serviceUrls.catalog,
      sourceName: 'catalog',
      secret: config.internalSecret,
      logger,
      batchSize: 20,
      handle: withGiveUp(logger, (event) => indexer.handleEvent(event), async (event, error) => {
        const bookId = (event.payload as { bookId?: unknown }).bookId;
        if (typeof bookId === 'string') await indexer.markFailed(bookId, error);
      }),
    });
    const noteFeed = new EventConsumer({
      name: UGC_CONSUMER,
      db: store.db,
      leases,
      sourceUrl: serviceUrls.ugc,
      sourceName: 'ugc',
      secret: config.internalSecret,
      logger,
      handle: withGiveUp(logger, (event) => notes.handleEvent(event), async () => undefined),
    });
    const recFeeds = recommendationConsumers(rec, { db: store.db, leases, catalogUrl: serviceUrls.catalog, ugcUrl: serviceUrls.ugc, secret: config.internalSecret, logger });
    // Repair first, then follow the feeds: a rebuild and a live event never index the same book at once.
    const background = repairIfNeeded(runtime, leases, stopping.signal)
      .catch((err: unknown) => logger.error({ err }, 'index repair failed'))
      .finally(() => {
        repairing = false;
        books.start();
        noteFeed.start();
        for (const feed of recFeeds) feed.start();
      });

    return {
      name: 'search',
      url: server.url,
      port: server.port,
      async stop() {
        stopping.abort();
        await background;
        await Promise.all([books.stop(), noteFeed.stop(), ...recFeeds.map((f) => f.stop())]);
        await server.stop();
        await rec.close();
        await runtime.close();
        identity.release();
      },
    };
  },
};
