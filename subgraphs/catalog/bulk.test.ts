import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { ingestEpub } from './bulk.js';
import { buildEpub } from './epub/build.js';
import { FIXTURE_BOOK } from '../../test/kit/epubFixtures.js';
import { openCatalog, type CatalogRuntime } from './index.js';

describe('bulk ingest', () => {
  let dir: string;
  let storage: Storage;
  let catalog: CatalogRuntime;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'folio-bulk-'));
    storage = await openStorage({ dataDir: dir });
    catalog = await openCatalog({ config: testConfig({ FOLIO_DATA_DIR: dir }), storage, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a draft with the title the EPUB gave it, not the placeholder it was created with', async () => {
    const { book, job } = await ingestEpub(catalog, await buildEpub(FIXTURE_BOOK), { publish: false });
    expect(job.status).toBe('STORED');
    expect(book.title).toBe('The Quiet Harbour');
    expect(book.status).toBe('DRAFT');
  });
});
