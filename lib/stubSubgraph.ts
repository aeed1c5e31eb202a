/** A temporary service module for a subgraph whose capability is not built yet: serves its SDL with the given resolvers. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { SubgraphName } from './config.js';
import type { RunningService, ServiceModule } from './service.js';
import { startSubgraphServer, type ResolverMap } from './subgraphServer.js';
import { DateTime } from './scalars.js';

export function stubService(name: SubgraphName, resolvers: ResolverMap): ServiceModule {
  return {
    name,
    async start({ config, logger }): Promise<RunningService> {
      const typeDefs = parse(readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), 'utf8'));
      const server = await startSubgraphServer(
        { name, typeDefs, resolvers: { DateTime, ...resolvers }, context: (info) => info },
        { host: config.host, port: config.subgraphPorts[name], internalSecret: config.internalSecret, logger: logger.child({ service: name }) },
      );
      return { name, url: server.url, port: server.port, stop: server.stop };
    },
  };
}
