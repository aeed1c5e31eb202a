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
 * Stands for a chapter edge in compared context (the revision text joins chapters with the
 * same code unit). A quote stored with a one-letter prefix because it began one letter into
 * its chapter must not match any place that merely follows the same letter.
 */
const EDGE = '\u0000';

/** What a highlight's surroundings should look like, prepared once per highlight. */
export interface Expectation {
  readonly anchor: TextAnchor;
  /** The stored prefix nearest the quote, led by EDGE when it reached the chapter's start. */
  readonly before: string;
  /** The stored suffix nearest the quote, ended by EDGE when it reached the chapter's end. */
  readonly after: string;
  readonly contextWeight: number;
}

/**
 * `contextChars` is what anchors are made with: stored context shorter than that was cut
 * short by a chapter edge (for the prefix, confirmed by it reaching offset 0).
 */
export function expectationOf(anchor: TextAnchor, contextChars: number): Expectation {
  const { prefix, suffix } = anchor;
  const before = prefix.slice(-SCORED_CONTEXT_CHARS);
  const after = suffix.slice(0, SCORED_CONTEXT_CHARS);
  const atStart = prefix.length < contextChars && anchor.start === prefix.length && before.length < SCORED_CONTEXT_CHARS;
  const atEnd = suffix.length < contextChars && after.length < SCORED_CONTEXT_CHARS;
  return {
    anchor,
    before: atStart ? EDGE + before : before,
    after: atEnd ? after + EDGE : after,
    contextWeight: CONTEXT_WEIGHT * Math.min(1, Math.max(0.25, 32 / anchor.exact.length)),
  };
}

/** Up to `n` code units before book offset `start`, led by EDGE where the chapter begins. */
function textBefore(bookText: string, chapter: ChapterSpan, start: number, n: number): string {
  if (start - n >= chapter.start) return bookText.slice(start - n, start);
  return EDGE + bookText.slice(chapter.start, start);
}

/** Up to `n` code units after book offset `end`, ended by EDGE where the chapter ends. */
function textAfter(bookText: string, chapter: ChapterSpan, end: number, n: number): string {
  if (end + n <= chapter.end) return bookText.slice(end, end + n);
  return bookText.slice(end, chapter.end) + EDGE;
}

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
 * Scores `candidate`. `expectedStart` is the book offset where the quote would be if nothing
 * before it had changed, or null when searching other chapters (where position says nothing).
 */
export function scoreCandidate(
  bookText: string,
  expectation: Expectation,
  candidate: Candidate,
  expectedStart: number | null,
): ScoredCandidate {
  const { chapter, start, end } = candidate;
  const { before, after, contextWeight } = expectation;
  const prefixScore = contextSimilarity(textBefore(bookText, chapter, start, before.length), before);
  const suffixScore = contextSimilarity(textAfter(bookText, chapter, end, after.length), after);
  const positionScore =
    expectedStart === null
      ? 0
      : 1 - Math.min(1, Math.abs(start - expectedStart) / Math.max(1, chapter.end - chapter.start));
  const raw =
    QUOTE_WEIGHT * candidate.quoteScore +
    contextWeight * (prefixScore + suffixScore) +
    POSITION_WEIGHT * positionScore;
  const score = raw / (QUOTE_WEIGHT + 2 * contextWeight + POSITION_WEIGHT);
  return { ...candidate, score };
}

/**
 * The stored context (with its chapter edges) sits intact on both sides of book range
 * `[start, end)`. Such a candidate outscores any candidate without intact context, so
 * callers use it to skip full scoring.
 */
export function contextIntactAt(bookText: string, chapter: ChapterSpan, start: number, end: number, expectation: Expectation): boolean {
  const { before, after } = expectation;
  return (
    textBefore(bookText, chapter, start, before.length) === before &&
    textAfter(bookText, chapter, end, after.length) === after
  );
}

/**
 * A cheap stand-in for context similarity, for ranking many candidates before scoring a
 * few: how many code units of context agree, reading outward from the quote.
 */
export function contextAgreement(bookText: string, chapter: ChapterSpan, start: number, end: number, expectation: Expectation): number {
  const { before, after } = expectation;
  const actualBefore = textBefore(bookText, chapter, start, before.length);
  const actualAfter = textAfter(bookText, chapter, end, after.length);
  let n = 0;
  for (let i = 1; i <= actualBefore.length && actualBefore.charCodeAt(actualBefore.length - i) === before.charCodeAt(before.length - i); i += 1) n += 1;
  for (let i = 0; i < actualAfter.length && actualAfter.charCodeAt(i) === after.charCodeAt(i); i += 1) n += 1;
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
