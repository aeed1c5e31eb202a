/** The accounts subgraph: users, login, sessions, profiles, partner keys, trusted documents. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { Counter } from 'prom-client';
import { createMetrics } from '../../lib/metrics.js';
import { databaseName, type RunningService, type ServiceModule } from '../../lib/service.js';
import { startSubgraphServer, storageReadiness } from '../../lib/subgraphServer.js';
import { createLoaders } from './loaders.js';
import { resolvers, viewerOf, type AccountsContext } from './resolvers.js';
import { internalRoutes } from './routes.js';
import { SchemaUsageService } from './schemaUsage.js';
import { schemaUsageRoutes } from './schemaUsageRoutes.js';
import { SchemaUsageStore } from './schemaUsageStore.js';
import { AccountService } from './service.js';
import { openAccountsStore } from './store.js';

export const typeDefs = parse(readFileSync(new URL('../../schema/accounts.graphql', import.meta.url), 'utf8'));

export const accountsService: ServiceModule = {
  name: 'accounts',
  async start({ config, storage, logger: parent }): Promise<RunningService> {
    const logger = parent.child({ service: 'accounts' });
    const store = await openAccountsStore(storage.db(databaseName('accounts')));
    const metrics = createMetrics('accounts');
    // Bounded labels. The security tests count password checks here: a throttle that works keeps
    // this below the budget however many guesses race.
    const passwordChecks = new Counter({
      name: 'folio_accounts_password_checks_total',
      help: 'Password hash comparisons at sign-in, by outcome',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    const throttled = new Counter({
      name: 'folio_accounts_throttled_total',
      help: 'Sign-ins and registrations refused by a throttle rule',
      labelNames: ['rule'],
      registers: [metrics.registry],
    });
    const service = new AccountService(store, {
      sessionTtlMs: config.sessionTtlMs,
      scryptLogN: config.passwordScryptLogN,
      throttle: config.loginThrottle,
      logger,
      observe: { passwordChecked: (outcome) => passwordChecks.inc({ outcome }), refused: (rule) => throttled.inc({ rule }) },
    });
    const schemaUsage = new SchemaUsageService(await SchemaUsageStore.open(store.db, { retentionDays: config.schemaUsageRetentionDays }));
    const backfill = await service.backfillUsernameSkeletons();
    if (backfill.updated + backfill.clashes > 0) logger.info(backfill, 'username skeletons backfilled');
    const admin = await service.ensureAdmin(config.admin.username, config.admin.password);
    logger.info({ username: admin.username }, 'admin account ready');

    const server = await startSubgraphServer<AccountsContext>(
      {
        name: 'accounts',
        typeDefs,
        resolvers,
        routes: [...internalRoutes(service), ...schemaUsageRoutes(schemaUsage)],
        context: ({ caller, userAgent }) => {
          const authenticatedUserIds = new Set<string>();
          return { caller, userAgent, service, schemaUsage, loaders: createLoaders(service), viewer: viewerOf(caller, authenticatedUserIds), authenticatedUserIds };
        },
        ready: () => storageReadiness(store.db),
      },
      { host: config.host, port: config.subgraphPorts.accounts, internalSecret: config.internalSecret, opsToken: config.opsToken, logger, metrics },
    );
    return { name: 'accounts', url: server.url, port: server.port, stop: server.stop };
  },
};
