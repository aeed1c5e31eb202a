/**
 * How much a candidate place in the new text looks like the highlight. The weights follow
 * Hypothesis's `matchQuote` (quote 50, prefix 20, suffix 20, position 2 as a tie-breaker),
 * with one change: the context weight shrinks for long quotes (down to a quarter at 128+
 * code units), because a long quote is evidence on its own, while a short one ("the house")
 * means little unless its surroundings match too.
 */
import { contextSimilarity } from './similarity.js';
import type { ChapterSpan } from './revision.js';
import type { TextAnchor } from './types.js';

const QUOTE_WEIGHT = 50;
const CONTEXT_WEIGHT = 20;
const POSITION_WEIGHT = 2;
/** Only the context nearest the quote is compared; it is what edits elsewhere leave alone. */
const SCORED_CONTEXT_CHARS = 32;

/**
 * Empty stored context means the quote sat at a chapter edge: finding it at an edge again is
 * a full match; anywhere else is neutral, not evidence against it (a paragraph was added).
 */
const edgeScore = (atEdge: boolean): number => (atEdge ? 1 : 0.5);

/** A place in the revision text (book offsets) the quote may now occupy. */
export interface Candidate {
  readonly chapter: ChapterSpan;
  readonly start: number;
  readonly end: number;
  /** Similarity of the text at this place to the quote, 0..1 (1 for an exact match). */
  readonly quoteScore: number;
}

export interface ScoredCandidate extends Candidate {
  readonly score: number;
}

/**
 * Scores `candidate` against `anchor`. `expectedStart` is the book offset where the quote
 * would be if nothing before it had changed, or null when searching other chapters (where
 * position says nothing).
 */
export function scoreCandidate(
  bookText: string,
  anchor: TextAnchor,
  candidate: Candidate,
  expectedStart: number | null,
): ScoredCandidate {
  const { chapter, start, end } = candidate;

  let prefixScore: number;
  if (anchor.prefix.length === 0) {
    prefixScore = edgeScore(start === chapter.start);
  } else {
    const expected = anchor.prefix.slice(-SCORED_CONTEXT_CHARS);
    prefixScore = contextSimilarity(bookText.slice(Math.max(chapter.start, start - expected.length), start), expected);
  }

  let suffixScore: number;
  if (anchor.suffix.length === 0) {
    suffixScore = edgeScore(end === chapter.end);
  } else {
    const expected = anchor.suffix.slice(0, SCORED_CONTEXT_CHARS);
    suffixScore = contextSimilarity(bookText.slice(end, Math.min(chapter.end, end + expected.length)), expected);
  }

  const positionScore =
    expectedStart === null
      ? 0
      : 1 - Math.min(1, Math.abs(start - expectedStart) / Math.max(1, chapter.end - chapter.start));

  const contextWeight = CONTEXT_WEIGHT * Math.min(1, Math.max(0.25, 32 / anchor.exact.length));
  const raw =
    QUOTE_WEIGHT * candidate.quoteScore +
    contextWeight * (prefixScore + suffixScore) +
    POSITION_WEIGHT * positionScore;
  const score = raw / (QUOTE_WEIGHT + 2 * contextWeight + POSITION_WEIGHT);
  return { ...candidate, score };
}

/**
 * The stored context sits intact on both sides of book range `[start, end)`, inside
 * `chapter`. Such a candidate outscores any candidate without intact context, so callers use
 * it to skip full scoring.
 */
export function contextIntactAt(bookText: string, chapter: ChapterSpan, start: number, end: number, anchor: TextAnchor): boolean {
  const { prefix, suffix } = anchor;
  return (
    start - prefix.length >= chapter.start &&
    end + suffix.length <= chapter.end &&
    bookText.startsWith(prefix, start - prefix.length) &&
    bookText.startsWith(suffix, end)
  );
}

/**
 * A cheap stand-in for context similarity, for ranking many candidates before scoring a
 * few: how many code units of stored context agree, reading outward from the quote.
 */
export function contextAgreement(bookText: string, chapter: ChapterSpan, start: number, end: number, anchor: TextAnchor): number {
  const { prefix, suffix } = anchor;
  let n = 0;
  for (let i = 1; i <= prefix.length && start - i >= chapter.start; i += 1, n += 1) {
    if (bookText.charCodeAt(start - i) !== prefix.charCodeAt(prefix.length - i)) break;
  }
  for (let i = 0; i < suffix.length && end + i < chapter.end; i += 1, n += 1) {
    if (bookText.charCodeAt(end + i) !== suffix.charCodeAt(i)) break;
  }
  return n;
}

/** The higher-scoring candidate; on a tie, the earlier one in the book (deterministic). */
export function better(a: ScoredCandidate | null, b: ScoredCandidate | null): ScoredCandidate | null {
  if (a === null) return b;
  if (b === null) return a;
  if (b.score > a.score) return b;
  if (b.score === a.score && b.start < a.start) return b;
  return a;
}
