/**
 * `npm run reindex`: rebuilds search's indexes (paragraphs from catalog, private notes from ugc)
 * with a progress bar. Stop the platform first when it uses the embedded stores (one process
 * owns their files); this command starts catalog and ugc on free ports to read from.
 */
import cliProgress from 'cli-progress';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startPlatform } from './platform.js';
import { rebuildSearchIndex, type ReindexProgress } from '../subgraphs/search/reindex.js';
import { openSearchRuntime } from '../subgraphs/search/runtime.js';
import { openRecommendations, rebuildRecommendations } from '../subgraphs/search/recommendations/index.js';

async function main(): Promise<void> {
  const config = loadConfig({ FOLIO_LOG_LEVEL: 'warn', ...process.env, FOLIO_SUBGRAPH_BASE_PORT: '0', FOLIO_DEMO_DATA: 'false' });
  const logger = createLogger('reindex', config.logLevel);
  const platform = await startPlatform(config, logger, ['catalog', 'ugc']);
  const serviceUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, platform.services[n] ? `http://${config.serviceHosts[n]}:${platform.services[n]!.port}` : ''])) as Record<SubgraphName, string>;
  const runtime = await openSearchRuntime({ config, storage: platform.storage, logger, serviceUrls });
  const bar = new cliProgress.SingleBar({ format: '{phase} [{bar}] {value}/{total} {detail}', hideCursor: true }, cliProgress.Presets.shades_classic);
  let phase = '';
  const progress: ReindexProgress = {
    start: (name, total) => {
      phase = name;
      bar.start(total, 0, { phase, detail: '' });
    },
    tick: (detail) => bar.increment(1, { phase, detail: detail.slice(0, 60) }),
    stop: () => bar.stop(),
  };
  try {
    const result = await rebuildSearchIndex(runtime, { catalogUrl: serviceUrls.catalog, ugcUrl: serviceUrls.ugc, secret: config.internalSecret }, progress);
    console.log(`Reindexed ${result.books} books (${result.failedBooks.length} failed${result.failedBooks.length ? `: ${result.failedBooks.join(', ')}` : ''}), ${result.noteEvents} note events for ${result.users} users.`);
    const rec = await openRecommendations(runtime, () => serviceUrls.catalog);
    try {
      const secret = config.internalSecret;
      const recs = await rebuildRecommendations(rec, { catalog: { secret, audience: 'catalog', baseUrl: serviceUrls.catalog }, ugc: { secret, audience: 'ugc', baseUrl: serviceUrls.ugc } }, progress);
      console.log(`Recommendations: ${recs.books} books, ${recs.ugcEvents} reading events replayed.`);
    } finally {
      await rec.close();
    }
  } finally {
    await runtime.close();
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
