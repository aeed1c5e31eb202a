import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScale } from './scale.bench.js';

// A tiny library (3 books, one Chinese) through the whole run: load, index, query, restart. About a
// minute on an idle machine; the timeout is generous because the machine is shared.
describe('bench:scale (tiny)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'scale-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('loads a library through the pipeline and reports throughput, memory, start-up and latency per query kind', async () => {
    const report = await runScale({ books: 5, paragraphsPerBook: 10, chaptersPerBook: 2, clients: 4, requests: 8, uploads: 2, outDir });
    expect(report.library).toMatchObject({ books: 5, chineseBooks: 1, chapters: 10, paragraphs: 50 });
    expect(report.ingest!.paragraphsPerSecond).toBeGreaterThan(0);
    expect(report.index!.totalSeconds).toBeGreaterThanOrEqual(report.ingest!.seconds);
    expect(report.disk.dataDirMiB).toBeGreaterThan(0);
    expect(report.memory.peakRssMiB).toBeGreaterThan(0);
    expect(report.memory.storeDocuments['folio_catalog.books']).toBe(5);
    expect(report.memory.storeDocuments['folio_catalog.chapters']).toBe(10);
    expect(report.startup.seconds).toBeGreaterThan(0);
    expect(Object.keys(report.queries).sort()).toEqual(['ask', 'books page', 'chapter', 'search hybrid', 'search keyword', 'search semantic', 'shelf of 100'].sort());
    for (const [kind, q] of Object.entries(report.queries)) {
      expect(q.count, kind).toBe(8);
      expect(q.errors, `${kind}: ${JSON.stringify(q.errorCodes)}`).toBe(0);
    }
    expect(JSON.parse(readFileSync(report.files!.json, 'utf8')).library.paragraphs).toBe(50);
    expect(readFileSync(report.files!.md, 'utf8')).toContain('| books page |');
  }, 300_000);
});
