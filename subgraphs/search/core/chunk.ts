/**
 * Splits a chapter's paragraphs into bounded chunks for embedding. Chunks never cross chapters,
 * pack short paragraphs together, split long ones at sentence or word boundaries, and overlap so
 * a sentence cut at a boundary is still whole in one chunk. Every chunk keeps the paragraph ids it
 * covers and chapter-level character offsets, so a hit can be anchored back to the text.
 */
import { FolioError } from '../../../lib/errors.js';

export interface ChunkInput {
  readonly paragraphId: string;
  readonly chapterId: string;
  readonly text: string;
  /** Offset of the paragraph's first character within its chapter. */
  readonly startOffset: number;
}

export interface Chunk {
  readonly chapterId: string;
  readonly text: string;
  readonly paragraphIds: string[];
  /** Chapter offsets of the chunk's first character and one past its last. */
  readonly start: number;
  readonly end: number;
}

export interface ChunkOptions {
  /** @default 800 */
  readonly maxChars?: number;
  /** Characters repeated from the previous chunk. @default 100 */
  readonly overlap?: number;
}

interface Piece {
  readonly paragraphId: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const SENTENCE_END = /[.!?。！？；;…]["'”’」』)）]*\s*/gu;

/** Where to cut `text` at or before `limit`: after a sentence end, else after whitespace, else hard. */
function cutPoint(text: string, from: number, limit: number): number {
  let best = -1;
  SENTENCE_END.lastIndex = from;
  for (let m = SENTENCE_END.exec(text); m && m.index + m[0].length <= limit; m = SENTENCE_END.exec(text)) best = m.index + m[0].length;
  if (best > from + (limit - from) / 3) return best;
  const space = text.lastIndexOf(' ', limit - 1);
  return space > from + (limit - from) / 3 ? space + 1 : limit;
}

/** Splits one paragraph into windows of ≤ maxChars with ~overlap characters shared between neighbours. */
function splitParagraph(p: ChunkInput, maxChars: number, overlap: number): Piece[] {
  const pieces: Piece[] = [];
  let from = 0;
  while (from < p.text.length) {
    const to = p.text.length - from <= maxChars ? p.text.length : cutPoint(p.text, from, from + maxChars);
    pieces.push({ paragraphId: p.paragraphId, text: p.text.slice(from, to), start: p.startOffset + from, end: p.startOffset + to });
    if (to >= p.text.length) break;
    const back = to - overlap;
    // Restart at a word boundary inside the overlap, always moving forward.
    const space = p.text.indexOf(' ', back);
    from = Math.max(from + 1, space >= back && space < to ? space + 1 : back);
  }
  return pieces;
}

export function chunkParagraphs(paragraphs: readonly ChunkInput[], options: ChunkOptions = {}): Chunk[] {
  const maxChars = options.maxChars ?? 800;
  const overlap = options.overlap ?? 100;
  if (!Number.isInteger(maxChars) || maxChars < 50 || maxChars > 20_000) throw new FolioError('BAD_USER_INPUT', 'maxChars must be in 50..20000');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= maxChars / 2) throw new FolioError('BAD_USER_INPUT', 'overlap must be in 0..maxChars/2');

  const chunks: Chunk[] = [];
  let current: Piece[] = [];
  let chapterId: string | undefined;
  /** Whether `current` holds a piece no emitted chunk has (carried overlap alone does not count). */
  let fresh = false;
  const length = (pieces: Piece[]): number => pieces.reduce((sum, p) => sum + p.text.length, 0) + Math.max(0, pieces.length - 1);
  const emit = (): void => {
    if (!fresh) return;
    fresh = false;
    chunks.push({
      chapterId: chapterId!,
      text: current.map((p) => p.text).join('\n'),
      paragraphIds: [...new Set(current.map((p) => p.paragraphId))],
      start: current[0]!.start,
      end: current[current.length - 1]!.end,
    });
    // Carry trailing pieces that fit in the overlap into the next chunk.
    const carried: Piece[] = [];
    for (let i = current.length - 1; i > 0 && length([current[i]!, ...carried]) <= overlap; i--) carried.unshift(current[i]!);
    current = carried;
  };

  for (const paragraph of paragraphs) {
    if (paragraph.chapterId !== chapterId) {
      emit();
      current = [];
      fresh = false;
      chapterId = paragraph.chapterId;
    }
    if (paragraph.text.trim().length === 0) continue;
    for (const piece of splitParagraph(paragraph, maxChars, overlap)) {
      if (current.length > 0 && length([...current, piece]) > maxChars) emit();
      if (current.length > 0 && length([...current, piece]) > maxChars) current = [];
      current.push(piece);
      fresh = true;
    }
  }
  emit();
  return chunks;
}
