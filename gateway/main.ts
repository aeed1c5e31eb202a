/**
 * Gateway entry point: `tsx gateway/main.ts`. Reads the config, starts the gateway (or a cluster
 * of FOLIO_GATEWAY_WORKERS processes sharing the port), and drains in-flight requests on SIGTERM.
 * For harnesses that speak the generic contract (the gateway-bench), SUPERGRAPH_PATH, PORT and HOST
 * stand in for FOLIO_SUPERGRAPH_PATH, FOLIO_GATEWAY_PORT and FOLIO_HOST when those are unset.
 */
import cluster from 'node:cluster';
import { configOrExit, loadConfig, type FolioConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startGateway } from './server.js';

function configFromEnvironment(): FolioConfig {
  const env = { ...process.env };
  env.FOLIO_SUPERGRAPH_PATH ??= env.SUPERGRAPH_PATH;
  env.FOLIO_GATEWAY_PORT ??= env.PORT;
  env.FOLIO_HOST ??= env.HOST;
  return loadConfig(env);
}

async function main(): Promise<void> {
  const config = configOrExit(configFromEnvironment);
  const logger = createLogger('gateway', config.logLevel);

  if (config.gateway.workers > 1 && cluster.isPrimary) {
    // Workers share the listening socket; each holds its own caches and (without Redis) rate limits.
    for (let i = 0; i < config.gateway.workers; i += 1) cluster.fork();
    let stopping = false;
    const stop = (): void => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    cluster.on('exit', (worker, code) => {
      if (!stopping) {
        logger.error({ pid: worker.process.pid, code }, 'gateway worker died; starting another');
        cluster.fork();
      } else if (Object.keys(cluster.workers ?? {}).length === 0) {
        process.exit(0);
      }
    });
    return;
  }

  const gateway = await startGateway(config, { logger });
  if (cluster.isPrimary) console.log(`Folio gateway ready at ${gateway.url}`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
