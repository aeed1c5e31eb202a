import { afterAll, describe, expect, it } from 'vitest';
import { acquireWorkerPool } from '../../../lib/workers/index.js';
import { generateSyntheticBook } from '../demo/index.js';
import { buildEpub } from './build.js';
import { isEpubError } from './errors.js';
import { parseEpubOffThread } from './offThread.js';
import { parseEpub, type EpubStage } from './parse.js';

describe('parseEpubOffThread', () => {
  const pool = acquireWorkerPool(1);
  afterAll(() => pool.release());

  it('gives exactly what parseEpub gives, stage by stage, from a worker thread', async () => {
    const epub = await buildEpub(generateSyntheticBook({ chapters: 4, paragraphsPerChapter: 60, seed: 5, language: 'en' }));
    const stages: EpubStage[] = [];
    const offThread = await parseEpubOffThread(pool, epub, {}, { onStage: async (stage) => void stages.push(stage) });
    expect(stages).toEqual(['FORMATTING', 'PARSING', 'SPLITTING']);
    expect(offThread).toEqual(await parseEpub(epub));
  });

  it('refuses a bad file with the same EpubError reason', async () => {
    const error = await parseEpubOffThread(pool, Buffer.from('this is not a zip file at all')).catch((e: unknown) => e);
    expect(isEpubError(error)).toBe(true);
    await expect(parseEpub(Buffer.from('this is not a zip file at all'))).rejects.toMatchObject({ reason: (error as { reason: string }).reason });
  });

  it('fails the parse when recording a stage fails', async () => {
    const epub = await buildEpub(generateSyntheticBook({ chapters: 1, paragraphsPerChapter: 5, seed: 6, language: 'en' }));
    await expect(
      parseEpubOffThread(pool, epub, {}, { onStage: async (stage) => { if (stage === 'PARSING') throw new Error('lease lost'); } }),
    ).rejects.toThrow('lease lost');
  });
});
