/** `npm start`: the whole platform with embedded defaults and demo data; prints the gateway URL. */
import { ConfigError, configOrExit, loadConfig, SUBGRAPH_NAMES } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startPlatform, type PlatformPart } from './platform.js';

function parseParts(value: string | undefined): PlatformPart[] {
  const all: PlatformPart[] = [...SUBGRAPH_NAMES, 'gateway'];
  if (!value) return all;
  const parts = value.split(',').map((s) => s.trim());
  const unknown = parts.filter((p) => !all.includes(p as PlatformPart));
  if (unknown.length > 0) throw new ConfigError([`FOLIO_SERVICES: unknown service(s) ${unknown.join(', ')} (choose from ${all.join(', ')})`]);
  return parts as PlatformPart[];
}

async function main(): Promise<void> {
  const { config, parts } = configOrExit(() => ({ config: loadConfig(), parts: parseParts(process.env.FOLIO_SERVICES) }));
  const logger = createLogger('folio', config.logLevel);
  const platform = await startPlatform(config, logger, parts);
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
