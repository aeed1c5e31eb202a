/**
 * Writes the tiny test model (test/kit/tinyOnnxModel.ts: random word vectors over the demo
 * library's words, no meaning) to a directory, to run the in-process embedder path end to end
 * where no real model can be downloaded:
 *   npx tsx bench/searchQuality/tinyModel.ts /tmp/tiny-model
 *   FOLIO_EMBEDDINGS_MODEL_DIR=/tmp/tiny-model npm run bench:search-quality
 */
import { resolve } from 'node:path';
import { demoBooks } from '../../subgraphs/catalog/demo/index.js';
import { writeVocabularyModel } from '../../test/kit/tinyOnnxModel.js';

export const demoTexts = (): string[] => demoBooks.flatMap((book) => [book.title, ...book.chapters.flatMap((chapter) => [chapter.title, ...chapter.paragraphs])]);

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: tsx bench/searchQuality/tinyModel.ts DIR');
    process.exit(2);
  }
  console.log(writeVocabularyModel(resolve(dir), demoTexts()));
}
