/** The accounts subgraph: users, login, sessions, profiles, partner keys, trusted documents. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { databaseName, type RunningService, type ServiceModule } from '../../lib/service.js';
import { startSubgraphServer, storageReadiness } from '../../lib/subgraphServer.js';
import { createLoaders } from './loaders.js';
import { resolvers, type AccountsContext } from './resolvers.js';
import { internalRoutes } from './routes.js';
import { AccountService } from './service.js';
import { openAccountsStore } from './store.js';

export const typeDefs = parse(readFileSync(new URL('../../schema/accounts.graphql', import.meta.url), 'utf8'));

export const accountsService: ServiceModule = {
  name: 'accounts',
  async start({ config, storage, logger: parent }): Promise<RunningService> {
    const logger = parent.child({ service: 'accounts' });
    const store = await openAccountsStore(storage.db(databaseName('accounts')));
    const service = new AccountService(store, { sessionTtlMs: config.sessionTtlMs, scryptLogN: config.passwordScryptLogN, logger });
    const admin = await service.ensureAdmin(config.admin.username, config.admin.password);
    logger.info({ username: admin.username }, 'admin account ready');

    const server = await startSubgraphServer<AccountsContext>(
      {
        name: 'accounts',
        typeDefs,
        resolvers,
        routes: internalRoutes(service),
        context: ({ caller, userAgent }) => ({ caller, userAgent, service, loaders: createLoaders(service), authenticatedUserIds: new Set() }),
        ready: () => storageReadiness(store.db),
      },
      { host: config.host, port: config.subgraphPorts.accounts, internalSecret: config.internalSecret, logger },
    );
    return { name: 'accounts', url: server.url, port: server.port, stop: server.stop };
  },
};
