/**
 * Bulk loading: `npm run ingest -- [--draft] <file.epub> [...]`. Each file becomes a book whose
 * metadata comes from the EPUB, processed by the same pipeline as API uploads (up to the
 * parser's 50 MiB, not the API's 16 MiB), then published with an open worldwide license unless
 * --draft. Writes to the configured store directly: with the embedded store, stop the platform
 * first (one process per data directory).
 */
import { readFile, stat } from 'node:fs/promises';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage } from '../../lib/storage/index.js';
import { ingestEpub } from './bulk.js';
import { DEFAULT_EPUB_LIMITS } from './epub/limits.js';
import { openCatalog } from './index.js';

async function main(argv: string[]): Promise<number> {
  const draft = argv.includes('--draft');
  const paths = argv.filter((a) => a !== '--draft' && a !== '--');
  if (paths.length === 0) {
    process.stderr.write('usage: npm run ingest -- [--draft] <file.epub> [...]\n');
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger('ingest', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const storage = await openStorage({ mongodbUri: config.mongodbUri, dataDir: config.dataDir });
  let failures = 0;
  try {
    const catalog = await openCatalog({ config, storage, logger });
    for (const file of paths) {
      const started = process.hrtime.bigint();
      const size = (await stat(file)).size;
      if (size > DEFAULT_EPUB_LIMITS.maxCompressedBytes) {
        process.stdout.write(`✗ ${file}: ${size} bytes is over the ${DEFAULT_EPUB_LIMITS.maxCompressedBytes}-byte limit\n`);
        failures++;
        continue;
      }
      const { book, job } = await ingestEpub(catalog, await readFile(file), { publish: !draft });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (job.status === 'STORED') {
        process.stdout.write(`✓ ${file} → book ${book._id} "${book.title}" (${draft ? 'draft' : 'published'}, ${seconds.toFixed(2)} s)\n`);
        for (const warning of job.warnings ?? []) process.stdout.write(`  ! ${warning.code}: ${warning.message}\n`);
      } else {
        process.stdout.write(`✗ ${file}: ${job.failureCode}: ${job.failureReason}\n`);
        failures++;
      }
    }
  } finally {
    await storage.close();
  }
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
