/** `npm start`: the whole platform with embedded defaults and demo data; prints the gateway URL. */
import net from 'node:net';
import { configOrExit, loadConfig, SUBGRAPH_NAMES, type FolioConfig } from '../lib/config.js';
import { withKeptDevelopmentSecret } from '../lib/devSecret.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { Storage } from '../lib/storage/index.js';
import type { PlatformPart } from './platform.js';

/** The variable that sets a port, for a clear message when it is taken. */
export function portVariable(config: FolioConfig, port: number): string | null {
  if (port === config.gatewayPort) return 'FOLIO_GATEWAY_PORT';
  const index = SUBGRAPH_NAMES.findIndex((name) => config.subgraphPorts[name] === port);
  if (index === 0) return 'FOLIO_SUBGRAPH_BASE_PORT';
  if (index > 0) return `FOLIO_SUBGRAPH_BASE_PORT (${SUBGRAPH_NAMES[index]} listens on it + ${index})`;
  if (port === config.gateway.opsPort) return 'FOLIO_GATEWAY_OPS_PORT';
  return null;
}

/** The first configured port of `parts` that is taken, tried before storage is opened (its lock would speak first). */
async function takenPort(config: FolioConfig, parts: readonly PlatformPart[]): Promise<number | null> {
  const ports = [
    ...(parts.includes('gateway') ? [config.gatewayPort, config.gateway.opsPort ?? 0] : []),
    ...SUBGRAPH_NAMES.filter((name) => parts.includes(name)).map((name) => config.subgraphPorts[name]),
  ].filter((port) => port !== 0);
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'EADDRINUSE'));
      probe.listen(port, config.host, () => probe.close(() => resolve(true)));
    });
    if (!free) return port;
  }
  return null;
}

function exitPortTaken(config: FolioConfig, port: number): never {
  const variable = portVariable(config, port);
  console.error(`Folio cannot start: port ${port} on ${config.host} is already in use${variable ? ` (set by ${variable})` : ''}. Stop the other process or choose another port.`);
  process.exit(1);
}

/**
 * Search indexes what catalog publishes from catalog's event feed, after start-up. Waiting until
 * search's cursor reaches the feed's end (the demo library on a first start) keeps those log lines
 * above the banner, and the banner means "searchable" too. Bounded: the banner comes regardless.
 */
async function waitForSearchIndex(storage: Storage, logger: Logger, timeoutMs = 30_000): Promise<void> {
  const { CATALOG_CONSUMER } = await import('../subgraphs/search/index.js');
  const published = async (): Promise<number> =>
    (await storage.db('folio_catalog').collection<{ _id: string; seq: number }>('outbox_sequence').findOne({ _id: 'outbox' }))?.seq ?? 0;
  const indexed = async (): Promise<number> =>
    (await storage.db('folio_search').collection<{ _id: string; seq: number }>('event_cursors').findOne({ _id: CATALOG_CONSUMER }))?.seq ?? 0;
  const deadline = Date.now() + timeoutMs;
  let reported = false;
  for (;;) {
    const [end, at] = [await published(), await indexed()];
    if (at >= end) return;
    if (Date.now() > deadline) return logger.warn({ indexed: at, published: end }, 'search is still indexing; starting anyway');
    if (!reported) logger.info({ events: end - at }, 'search is indexing the catalog');
    reported = true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** GraphiQL and the console (admin/) are built on the first start and again when admin/src is newer; the API works without them. */
async function buildBrowserPages(logger: Logger): Promise<void> {
  const { adminBuilt, adminStale, ensureAdminBuild } = await import('./adminBuild.js');
  if (!adminStale()) return;
  logger.info(
    adminBuilt()
      ? 'rebuilding the browser pages: admin/ changed since admin/dist was built; this takes a minute or two'
      : 'building the browser pages (admin/: console and GraphiQL) once; this takes a minute or two',
  );
  await ensureAdminBuild().catch((err: unknown) => logger.warn({ err }, 'browser pages not built (/admin and GraphiQL answer 503); run npm run admin:build'));
}

async function main(): Promise<void> {
  const config = configOrExit(() => withKeptDevelopmentSecret(loadConfig()));
  const parts = config.services;
  const logger = createLogger('folio', config.logLevel);
  logger.info({ services: parts.join(','), data: config.mongodbUri ? 'MongoDB' : config.dataDir }, 'starting Folio');
  const taken = await takenPort(config, parts);
  if (taken !== null) exitPortTaken(config, taken);
  if (parts.includes('gateway')) await buildBrowserPages(logger);
  // Loaded after the first line: compiling every service takes seconds on a cold start.
  const { startPlatform } = await import('./platform.js');
  logger.info('services loaded; opening storage and starting them');
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform(config, logger, parts);
  } catch (error) {
    const { code, port } = error as NodeJS.ErrnoException & { port?: number };
    // Taken between the check above and the service's own listen.
    if (code === 'EADDRINUSE' && typeof port === 'number') exitPortTaken(config, port);
    throw error;
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    platform.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (parts.includes('catalog') && parts.includes('search')) await waitForSearchIndex(platform.storage, logger);

  const lines = [''];
  if (platform.gatewayUrl) lines.push(`Folio is running. GraphQL gateway: ${platform.gatewayUrl}`);
  for (const [name, svc] of Object.entries(platform.services)) lines.push(`  ${name.padEnd(9)} subgraph: ${svc.url}`);
  lines.push(`  data: ${config.mongodbUri ? 'MongoDB' : `embedded, in ${config.dataDir}`}`);
  if (!config.production) {
    lines.push('', `Sign in as the demo admin: mutation { login(username: "${config.admin.username}", password: "${config.admin.password}") { token } }`);
    lines.push('then send the token as the header  Authorization: Bearer <token>');
  }
  console.log(lines.join('\n') + '\n');
}

await main();
