/**
 * Starts the platform in one process: the four subgraphs, each its own Apollo Server on its own
 * port, and the gateway in front. `FOLIO_SERVICES` picks a subset (docker-compose runs one service
 * per container). Used by `npm start` and by the end-to-end test kit.
 */
import { SUBGRAPH_NAMES, type FolioConfig, type ServiceName, type SubgraphName } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { RunningService, ServiceModule } from '../lib/service.js';
import { openStorage, type Storage } from '../lib/storage/index.js';
import { startGateway } from '../gateway/server.js';
import { accountsService } from '../subgraphs/accounts/index.js';
import { catalogService } from '../subgraphs/catalog/index.js';
import { searchService } from '../subgraphs/search/index.js';
import { ugcService } from '../subgraphs/ugc/index.js';

export const SERVICE_MODULES: Readonly<Record<SubgraphName, ServiceModule>> = {
  accounts: accountsService,
  catalog: catalogService,
  ugc: ugcService,
  search: searchService,
};

export type PlatformPart = ServiceName;

export interface Platform {
  readonly gatewayUrl: string | null;
  readonly services: Readonly<Partial<Record<SubgraphName, RunningService>>>;
  readonly storage: Storage;
  stop(): Promise<void>;
}

export async function startPlatform(config: FolioConfig, logger: Logger, parts: readonly PlatformPart[] = [...SUBGRAPH_NAMES, 'gateway']): Promise<Platform> {
  const storage = await openStorage({ mongodbUri: config.mongodbUri, dataDir: config.dataDir, commit: config.storeCommit });
  const services: Partial<Record<SubgraphName, RunningService>> = {};
  const stops: Array<() => Promise<void>> = [];
  const serviceUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, `http://${config.serviceHosts[name]}:${config.subgraphPorts[name]}`]),
  ) as Record<SubgraphName, string>;
  try {
    // Accounts first: it creates the admin; the others only need their own databases.
    for (const name of SUBGRAPH_NAMES.filter((n) => parts.includes(n))) {
      const running = await SERVICE_MODULES[name].start({ config, storage, logger, serviceUrls });
      services[name] = running;
      // With port 0 (tests) the real port is known only now.
      serviceUrls[name] = `http://${config.serviceHosts[name]}:${running.port}`;
      stops.push(running.stop);
    }
    let gatewayUrl: string | null = null;
    if (parts.includes('gateway')) {
      const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, `${serviceUrls[n]}/graphql`]));
      const gateway = await startGateway(config, { subgraphUrls });
      gatewayUrl = gateway.url;
      stops.push(gateway.stop);
    }
    return {
      gatewayUrl,
      services,
      storage,
      async stop() {
        // The gateway first (it stops taking requests), then the services, then storage.
        for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
        await storage.close();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await storage.close();
    throw error;
  }
}

