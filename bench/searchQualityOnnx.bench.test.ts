import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeVocabularyModel } from '../test/kit/tinyOnnxModel.js';
import { EVAL_SET } from './searchQuality/evalSet.js';
import { evaluateSearch } from './searchQuality/harness.js';
import { demoTexts } from './searchQuality/tinyModel.js';

// The in-process embedder through the whole search service (index six books on its worker
// thread, embed queries with it, answer over GraphQL), on the tiny test model: random word
// vectors over the demo library's words. It measures the path, not a real model's quality.
describe('search quality path with FOLIO_EMBEDDINGS_MODEL_DIR (tiny test model)', () => {
  const root = mkdtempSync(join(tmpdir(), 'folio-onnx-quality-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('indexes the demo library and answers English and Chinese questions with the in-process model', async () => {
    const dir = writeVocabularyModel(join(root, 'model'), demoTexts());
    const cases = EVAL_SET.filter((c) => c.category !== 'cross').filter((_, i) => i % 3 === 0);
    const report = await evaluateSearch({ FOLIO_EMBEDDINGS_MODEL_DIR: dir, FOLIO_WORKER_THREADS: '1' }, cases);
    expect(report.embedder).toBe('folio/tiny-test-model (in process, ONNX)');
    expect(report.ranks).toHaveLength(cases.length);
    // Bag-of-words vectors find passages sharing the question's words, as the measured run did.
    expect(report.modes.SEMANTIC.all.recallAt10).toBeGreaterThanOrEqual(0.8);
    expect(report.modes.HYBRID.all.recallAt10).toBeGreaterThanOrEqual(0.8);
  }, 180_000);
});
