/** The catalog subgraph: books, revisions, chapters, paragraphs, the EPUB pipeline, publishing, licensing, downloads. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { Clock } from '../../lib/clock.js';
import type { FolioConfig } from '../../lib/config.js';
import { Outbox, OutboxRetention } from '../../lib/events.js';
import { workerIdentity } from '../../lib/instance.js';
import { LeaseManager } from '../../lib/leases.js';
import type { Logger } from '../../lib/logger.js';
import { createMetrics, dbOperationCounter, storeCommitMetrics } from '../../lib/metrics.js';
import { databaseName, type RunningService, type ServiceModule } from '../../lib/service.js';
import { countingDb, type StoreOperation } from '../../lib/storage/counting.js';
import { commitObservableOf, type Storage } from '../../lib/storage/index.js';
import { startSubgraphServer, storageReadiness } from '../../lib/subgraphServer.js';
import { acquireWorkerPool } from '../../lib/workers/index.js';
import { seedDemoLibrary } from './bulk.js';
import { DownloadSigner, downloadRoute } from './downloads.js';
import { coverRoute } from './covers.js';
import { FileStore } from './files.js';
import { readerOf } from './service.js';
import { createLoaders } from './loaders.js';
import { UploadPipeline, type PipelineOptions } from './pipeline.js';
import { resolvers, type CatalogContext } from './resolvers.js';
import { internalRoutes } from './routes.js';
import { CATALOG_MAX_BODY_BYTES, CatalogService } from './service.js';
import { openCatalogStore, type CatalogStore } from './store.js';

export const typeDefs = parse(readFileSync(new URL('../../schema/catalog.graphql', import.meta.url), 'utf8'));

export interface CatalogRuntime {
  readonly store: CatalogStore;
  readonly files: FileStore;
  readonly pipeline: UploadPipeline;
  readonly service: CatalogService;
  readonly outbox: Outbox;
  readonly leases: LeaseManager;
  readonly signer: DownloadSigner;
}

export interface OpenCatalogOptions {
  readonly config: FolioConfig;
  readonly storage: Storage;
  readonly logger: Logger;
  /** Base URL in download links; resolved late because tests learn the port only after listening. */
  readonly publicUrl?: () => string;
  readonly pipeline?: Partial<PipelineOptions>;
  /** Counts store round trips (lib/storage/counting.ts): DataLoader batching is observable in metrics and tests. */
  readonly onStoreOperation?: (operation: StoreOperation) => void;
  /** Business time (lib/clock.ts). @default systemClock */
  readonly now?: Clock;
}

/** Everything but the HTTP server: used by the service, `npm run ingest` and tests. */
export async function openCatalog(options: OpenCatalogOptions): Promise<CatalogRuntime> {
  const { config, storage, logger } = options;
  const plain = storage.db(databaseName('catalog'));
  const db = options.onStoreOperation ? countingDb(plain, options.onStoreOperation) : plain;
  const store = await openCatalogStore(db);
  const files = new FileStore(store);
  const outbox = new Outbox(db);
  const pipeline = new UploadPipeline(store, files, { logger, outbox, ...options.pipeline });
  const signer = new DownloadSigner(config.internalSecret, options.publicUrl ?? (() => config.publicCatalogUrl));
  const service = new CatalogService(store, pipeline, outbox, { logger, signer, ...(options.now ? { now: options.now } : {}) });
  return { store, files, pipeline, service, outbox, leases: new LeaseManager(db), signer };
}

export const catalogService: ServiceModule = {
  name: 'catalog',
  async start({ config, storage, logger: parent }): Promise<RunningService> {
    const logger = parent.child({ service: 'catalog' });
    const metrics = createMetrics('catalog');
    let port = 0;
    // With port 0 (tests) the link's port is known only after listening.
    const configured = new URL(config.publicCatalogUrl);
    const publicUrl = (): string =>
      configured.port === '0' ? `${configured.protocol}//${config.serviceHosts.catalog}:${port}` : config.publicCatalogUrl;
    const identity = workerIdentity(config);
    const workers = acquireWorkerPool(config.workerThreads);
    const runtime = await openCatalog({ config, storage, logger, publicUrl, pipeline: { identity, workers }, onStoreOperation: dbOperationCounter(metrics.registry) });
    const { store, service, pipeline, outbox, files, signer } = runtime;

    const server = await startSubgraphServer<CatalogContext>(
      {
        name: 'catalog',
        typeDefs,
        resolvers,
        maxBodyBytes: CATALOG_MAX_BODY_BYTES,
        routes: [outbox.route(), ...internalRoutes(service), downloadRoute(signer, service, files, logger), coverRoute(signer, service, files, logger)],
        context: ({ caller, cacheTags }) => ({ caller, reader: readerOf(caller), service, loaders: createLoaders(service, cacheTags), cacheTags }),
        ready: () => storageReadiness(store.db),
      },
      { host: config.host, port: config.subgraphPorts.catalog, internalSecret: config.internalSecret, opsToken: config.opsToken, logger, metrics },
    );
    port = server.port;
    pipeline.start();
    const retention = new OutboxRetention(store.db, { ...config.outboxRetention, logger });
    const stopCommitMetrics = storeCommitMetrics(metrics.registry, databaseName('catalog'), commitObservableOf(storage.db(databaseName('catalog'))));
    retention.start();
    if (config.demoData) {
      await seedDemoLibrary({ ...runtime, logger }).catch((err: unknown) => logger.error({ err }, 'demo library failed to load'));
    }
    return {
      name: 'catalog',
      url: server.url,
      port: server.port,
      async stop() {
        await retention.stop();
        stopCommitMetrics();
        await pipeline.stop();
        await server.stop();
        identity.release();
        await workers.release();
      },
    };
  },
};
