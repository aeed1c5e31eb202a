/**
 * Binds the ports (ports.ts) to core's implementations: jieba tokenizer, BM25 sparse vectors,
 * the chunker and the configured embedder.
 */
import { chunkParagraphs } from './core/chunk.js';
import type { Embedder as CoreEmbedder } from './core/embedder.js';
import { queryToSparse, toSparse } from './core/sparse.js';
import { addCustomWords, tokenize } from './core/tokenize.js';
import type { Chunk, ChunkableChapter, Chunker, Embedder, SparseEncoder, TextAnalyzer } from './ports.js';

export const analyzer: TextAnalyzer = { terms: (text) => tokenize(text) };

export const sparseEncoder: SparseEncoder = {
  document: (text) => toSparse(tokenize(text)),
  query: (text) => queryToSparse(tokenize(text)),
};

/** Teaches the tokenizer a book's title and authors, so they stay whole words in queries and text. */
export const learnBookWords = (title: string, authors: readonly string[]): void => void addCustomWords([title, ...authors]);

/** Most characters per chunk: about a long paragraph; short ones are packed together. */
const CHUNK_CHARS = 800;
const CHUNK_OVERLAP = 100;

export const chunker: Chunker = {
  chunk(chapter: ChunkableChapter): Chunk[] {
    const paragraphs = [...chapter.paragraphs].sort((a, b) => a.index - b.index);
    const byId = new Map(paragraphs.map((p) => [p.id, p]));
    const inputs = paragraphs.map((p) => ({ paragraphId: p.id, chapterId: chapter.id, text: chapter.text.slice(p.startOffset, p.endOffset), startOffset: p.startOffset }));
    return chunkParagraphs(inputs, { maxChars: CHUNK_CHARS, overlap: CHUNK_OVERLAP }).map((c) => {
      // The chunker joins pieces with "\n"; find where each paragraph's piece begins in the chunk text.
      let at = 0;
      const paragraphStarts = c.paragraphIds.map((id, i) => {
        if (i === 0) return 0;
        const p = byId.get(id)!;
        const from = Math.max(p.startOffset, c.start);
        const probe = chapter.text.slice(from, Math.min(from + 40, p.endOffset));
        const found = probe ? c.text.indexOf(probe, at) : -1;
        at = found >= 0 ? found : at;
        return at;
      });
      return { text: c.text, paragraphIds: c.paragraphIds, paragraphStarts, startOffset: c.start, endOffset: c.end };
    });
  },
};

export const portEmbedder = (embedder: CoreEmbedder): Embedder => ({
  id: embedder.id,
  dimension: embedder.dimension,
  minSimilarity: embedder.minSimilarity,
  embed: (texts) => embedder.embed([...texts]),
  ...(embedder.embedQuery ? { embedQuery: (texts: readonly string[]) => embedder.embedQuery!([...texts]) } : {}),
});
