/**
 * One revision's chapters laid end to end in a single string, with a q-gram index over it,
 * so that one lookup answers "where does this occur in the book?" and a book offset maps
 * back to its chapter by binary search. Private to the anchoring library.
 */
import { badInput } from '../../../lib/errors.js';
import { MAX_CHAPTER_ID_LENGTH } from './describe.js';
import { GramIndex } from './gramIndex.js';
import type { ChapterSource, ChapterText } from './types.js';

/** Chapters are joined by this code unit, so no gram or match runs from one into the next
 * without the separator showing up in it; matches are also checked to lie in one chapter. */
const SEPARATOR = '\u0000';
/** About 60 MB of UTF-16: far beyond any book, small enough that the index fits in memory. */
export const MAX_REVISION_CHARS = 32_000_000;

export interface ChapterSpan {
  readonly id: string;
  /** Position in the revision's reading order. */
  readonly index: number;
  /** Book offset of the chapter's first code unit. */
  readonly start: number;
  /** Book offset one past its last code unit. */
  readonly end: number;
  readonly text: string;
}

function toChapterList(source: ChapterSource): ChapterText[] {
  if (source instanceof Map) return [...source].map(([id, text]) => ({ id, text }));
  if (Array.isArray(source)) return source as ChapterText[];
  throw badInput('Chapters must be a Map of id to text or an array of { id, text }.', 'chapters');
}

export class RevisionText {
  readonly chapters: readonly ChapterSpan[];
  /** All chapter texts joined by SEPARATOR. */
  readonly text: string;
  readonly index: GramIndex;
  private readonly byId: ReadonlyMap<string, ChapterSpan>;

  constructor(source: ChapterSource) {
    const list = toChapterList(source);
    const chapters: ChapterSpan[] = [];
    const byId = new Map<string, ChapterSpan>();
    let offset = 0;
    for (const [index, chapter] of list.entries()) {
      const { id, text } = chapter ?? {};
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CHAPTER_ID_LENGTH) {
        throw badInput(`Chapter ${index} has a missing or overlong id.`, 'chapters');
      }
      if (typeof text !== 'string') throw badInput(`Chapter ${id} has no text.`, 'chapters');
      if (byId.has(id)) throw badInput(`Chapter id ${id} occurs twice.`, 'chapters');
      const span: ChapterSpan = { id, index, start: offset, end: offset + text.length, text };
      offset = span.end + SEPARATOR.length;
      if (offset > MAX_REVISION_CHARS) {
        throw badInput(`A revision may hold at most ${MAX_REVISION_CHARS} characters.`, 'chapters');
      }
      chapters.push(span);
      byId.set(id, span);
    }
    this.chapters = chapters;
    this.byId = byId;
    this.text = chapters.map((c) => c.text).join(SEPARATOR);
    this.index = new GramIndex(this.text);
  }

  /** The chapter to search first: the same id, else the same position in reading order. */
  homeChapter(chapterId: string, chapterIndex: number | undefined): ChapterSpan | undefined {
    const byId = this.byId.get(chapterId);
    if (byId) return byId;
    if (chapterIndex !== undefined && Number.isSafeInteger(chapterIndex)) return this.chapters[chapterIndex];
    return undefined;
  }

  /** The chapter containing book offset `pos` (a separator belongs to no chapter). */
  chapterAt(pos: number): ChapterSpan | undefined {
    let lo = 0;
    let hi = this.chapters.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chapters[mid]!;
      if (pos < c.start) hi = mid - 1;
      else if (pos >= c.end) lo = mid + 1;
      else return c;
    }
    return undefined;
  }

  /** The chapter that wholly contains `[start, end)`, if one does. */
  chapterContaining(start: number, end: number): ChapterSpan | undefined {
    const chapter = this.chapterAt(start);
    return chapter && end <= chapter.end ? chapter : undefined;
  }
}
