/**
 * The UGC subgraph: bookshelf, reading progress, highlights, notes, reviews, and the repair
 * worker that re-anchors highlights and notes when catalog replaces a book's content.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { EventConsumer, Outbox, OutboxRetention } from '../../lib/events.js';
import { workerIdentity } from '../../lib/instance.js';
import { LeaseManager } from '../../lib/leases.js';
import { systemClock } from '../../lib/clock.js';
import { createMetrics, dbOperationCounter, storeCommitMetrics } from '../../lib/metrics.js';
import { databaseName, type RunningService, type ServiceModule } from '../../lib/service.js';
import { startSubgraphServer, storageReadiness } from '../../lib/subgraphServer.js';
import { chapterLoader, HttpCatalogApi, type CatalogApi } from './catalogClient.js';
import { createLoaders } from './loaders.js';
import { enqueueRepair, takeBackPreviousRun, parseContentReplaced } from './repair/jobs.js';
import { RepairWorker } from './repair/worker.js';
import { resolvers, type UgcContext, type UgcServices } from './resolvers.js';
import { internalRoutes } from './routes.js';
import { AnnotationService } from './service/annotations.js';
import type { UgcDeps } from './service/common.js';
import { ReviewService } from './service/reviews.js';
import { ShelfService } from './service/shelf.js';
import { recordPrunedSync } from './service/sync.js';
import { openUgcStore } from './store.js';
import { commitObservableOf, type FolioDb } from '../../lib/storage/index.js';
import { countingDb } from '../../lib/storage/counting.js';
import type { Logger } from '../../lib/logger.js';

export const typeDefs = parse(readFileSync(new URL('../../schema/ugc.graphql', import.meta.url), 'utf8'));

export interface UgcOptions {
  /** Distinct readers before a passage is popular (FOLIO_POPULAR_HIGHLIGHT_MIN_READERS). @default 3 */
  readonly popularMinReaders?: number;
  readonly now?: () => Date;
}

/** Builds the services over one database; the service module and tests share it. */
export async function createUgcServices(db: FolioDb, catalog: CatalogApi, logger: Logger, options: UgcOptions = {}): Promise<UgcServices> {
  const store = await openUgcStore(db);
  const deps: UgcDeps = {
    store,
    outbox: new Outbox(db),
    catalog,
    chapters: chapterLoader(catalog),
    logger,
    popularMinReaders: options.popularMinReaders ?? 3,
    now: options.now ?? systemClock,
  };
  return { ...deps, shelf: new ShelfService(deps), annotations: new AnnotationService(deps), reviews: new ReviewService(deps) };
}

export const ugcService: ServiceModule = {
  name: 'ugc',
  async start({ config, storage, logger: parent, serviceUrls }): Promise<RunningService> {
    const logger = parent.child({ service: 'ugc' });
    const metrics = createMetrics('ugc');
    const db = countingDb(storage.db(databaseName('ugc')), dbOperationCounter(metrics.registry));
    const stopCommitMetrics = storeCommitMetrics(metrics.registry, databaseName('ugc'), commitObservableOf(storage.db(databaseName('ugc'))));
    // serviceUrls is filled in as services start (port 0 in tests), so read it at call time.
    const catalog = new HttpCatalogApi(() => serviceUrls.catalog, config.internalSecret);
    const services = await createUgcServices(db, catalog, logger, { popularMinReaders: config.popularHighlightMinReaders });
    const identity = workerIdentity(config);
    const leases = new LeaseManager(db, 'leases', identity);
    // Work an earlier run of this instance was doing when it died resumes now, not at lease expiry.
    await takeBackPreviousRun(services.store, leases).catch((err: unknown) => logger.warn({ err }, 'could not take back leases of an earlier run; they will expire'));

    const worker = new RepairWorker({ store: services.store, outbox: services.outbox, catalog, leases, logger });
    const consumer = new EventConsumer({
      name: 'ugc-repair',
      db,
      leases,
      sourceUrl: serviceUrls.catalog,
      sourceName: 'catalog',
      secret: config.internalSecret,
      logger,
      handle: async (event) => {
        if (event.type !== 'BookContentReplaced') return;
        const replaced = parseContentReplaced(event.payload);
        if (!replaced) {
          logger.warn({ seq: event.seq }, 'ignoring a malformed BookContentReplaced event');
          return;
        }
        await enqueueRepair(services.store, replaced, new Date(), services.outbox);
        worker.kick();
      },
    });

    const server = await startSubgraphServer<UgcContext>(
      {
        name: 'ugc',
        typeDefs,
        resolvers,
        routes: [services.outbox.route(), ...internalRoutes(services.shelf)],
        context: ({ caller, cacheTags }) => ({ caller, services, loaders: createLoaders(services, caller), cacheTags }),
        ready: () => storageReadiness(db),
      },
      { host: config.host, port: config.subgraphPorts.ugc, internalSecret: config.internalSecret, opsToken: config.opsToken, logger, metrics },
    );
    worker.start();
    consumer.start();
    // Each user's sync watermark rises with their pruned events: me.changes answers CURSOR_EXPIRED below it.
    const retention = new OutboxRetention(db, { ...config.outboxRetention, logger, beforePrune: recordPrunedSync });
    retention.start();
    return {
      name: 'ugc',
      url: server.url,
      port: server.port,
      async stop() {
        await retention.stop();
        stopCommitMetrics();
        await consumer.stop();
        await worker.stop();
        await server.stop();
        identity.release();
      },
    };
  },
};
