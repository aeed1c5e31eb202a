/**
 * The upload worker on a store that cannot write (a full disk): it backs off exponentially
 * instead of retrying every poll, logs once when it starts failing and once when it recovers, and
 * resumes the job it holds as soon as the store takes writes again.
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../lib/config.js';
import { openEmbeddedStorage } from '../../lib/storage/embedded/index.js';
import { FakeDisk } from '../../test/kit/fakeDisk.js';
import { eventually } from '../../test/kit/eventually.js';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { openCatalog } from './index.js';

const dataDir = tempDataDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('upload worker on a full disk', () => {
  it('backs off exponentially, logs once per state change, and finishes the job once space returns', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const disk = new FakeDisk();
    const storage = openEmbeddedStorage(dataDir, { io: disk });
    try {
      const catalog = await openCatalog({
        config: testConfig({ FOLIO_DATA_DIR: dataDir }),
        storage,
        logger,
        pipeline: { pollMs: 10, maxBackoffMs: 80 },
      });
      const job = await catalog.pipeline.enqueue('no-such-book', Buffer.from('not an epub'), 'u-editor');
      disk.fill(); // claiming the job is a write: it fails from now on
      catalog.pipeline.start();
      await new Promise((r) => setTimeout(r, 700));
      const triesWhileFull = disk.failures;
      // Without backoff: one try per 10 ms poll (~70). With it: 10, 20, 40, 80, 80, … ms (~12).
      expect(triesWhileFull).toBeGreaterThanOrEqual(4);
      expect(triesWhileFull).toBeLessThanOrEqual(14);
      expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(['upload worker failing; backing off until it works again']);

      disk.makeRoom();
      const done = await catalog.pipeline.waitFor(job._id, 5_000);
      // The worker resumed and processed it: the bytes are refused as an EPUB, not as an internal error.
      expect(done, JSON.stringify(done)).toMatchObject({ status: 'FAILED', failureCode: 'NOT_A_ZIP' });
      // The job can finish a moment before the loop that ran it logs its recovery.
      await eventually(async () => lines.some((l) => l.msg === 'upload worker recovered'), { timeoutMs: 5_000 });
      expect(lines.filter((l) => l.msg === 'upload worker recovered')).toHaveLength(1);
      expect(lines.filter((l) => l.level >= 50)).toHaveLength(1);
      await catalog.pipeline.stop();
    } finally {
      await storage.close();
    }
  });
});
