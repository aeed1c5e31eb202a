/**
 * The shapes of the re-anchoring library. A highlight is anchored the way the W3C Web
 * Annotation model anchors text: a TextPositionSelector (`start`/`end`, UTF-16 code-unit
 * offsets into the chapter's plain text) and a TextQuoteSelector (`exact` plus `prefix`/`suffix`
 * context), both kept together in one `TextAnchor`.
 */

export interface TextAnchor {
  readonly chapterId: string;
  /** Offset of the first highlighted code unit in the chapter's plain text. */
  readonly start: number;
  /** Offset one past the last highlighted code unit. */
  readonly end: number;
  /** The highlighted text, `chapterText.slice(start, end)` when the anchor was made. */
  readonly exact: string;
  /** Up to `contextChars` code units before `start` (shorter at the start of a chapter). */
  readonly prefix: string;
  /** Up to `contextChars` code units after `end` (shorter at the end of a chapter). */
  readonly suffix: string;
}

/** One chapter of a revision: its id and its plain text. */
export interface ChapterText {
  readonly id: string;
  readonly text: string;
}

/** A revision's chapters in reading order: a Map (insertion order) or an array. */
export type ChapterSource = ReadonlyMap<string, string> | readonly ChapterText[];

/** How a re-anchored highlight was found. */
export type MatchMethod = 'exact' | 'fuzzy';

/**
 * Why a highlight could not be placed in the new revision.
 * - INVALID_ANCHOR: the stored anchor itself is malformed (empty quote, bad offsets, …).
 * - NOT_FOUND: no candidate came within the error budget anywhere we looked.
 * - LOW_SCORE: candidates exist but none scored at least `minScore`.
 */
export type OrphanReason = 'INVALID_ANCHOR' | 'NOT_FOUND' | 'LOW_SCORE';

export type ReanchorResult =
  /** Same chapter id, same offsets, same text. `anchor` carries refreshed context. */
  | { readonly status: 'UNCHANGED'; readonly anchor: TextAnchor }
  /** Found elsewhere (other offsets or chapter) or with edits inside the quote. */
  | {
      readonly status: 'MOVED';
      readonly anchor: TextAnchor;
      /** 0..1; 1 means the quote and its context were found intact. */
      readonly score: number;
      readonly method: MatchMethod;
    }
  | {
      readonly status: 'ORPHANED';
      readonly reason: OrphanReason;
      /** A person-readable explanation, for job logs. */
      readonly detail: string;
      /** The best rejected candidate's score, when there was one (helps tune `minScore`). */
      readonly bestScore?: number;
    };

/** Per-highlight hints a caller may know from the old revision. */
export interface ReanchorHint {
  /**
   * The highlight's chapter position in the old revision. Used to pick the chapter to search
   * first when the old chapter id no longer exists (a renamed or re-keyed chapter).
   */
  readonly chapterIndex?: number;
}
