/**
 * Re-anchoring a highlight in a new revision of its book, in the order Hypothesis's client
 * anchors (position, then quote, then approximate quote):
 *   1. the old offsets in the same chapter, verified by the quote and its context → UNCHANGED;
 *   2. exact occurrences of the quote in the highlight's chapter, ranked by context and
 *      distance from the old position;
 *   3. an approximate match there, bounded (see fuzzy.ts);
 *   4. the same two searches in the other chapters (a chapter split, merged or re-keyed).
 * The first stage whose best candidate scores at least `minScore` wins; otherwise the
 * highlight is ORPHANED. Everything is synchronous and pure: no I/O, no clocks.
 */
import { anchorAt, anchorProblem } from './describe.js';
import { matchesAround, maxErrorsFor, seedWindows, type SearchScope } from './fuzzy.js';
import { GRAM_LENGTH } from './gramIndex.js';
import { resolveReanchorOptions, type ReanchorOptions, type ResolvedReanchorOptions } from './options.js';
import { RevisionText, type ChapterSpan } from './revision.js';
import {
  better,
  contextAgreement,
  contextIntactAt,
  scoreCandidate,
  type Candidate,
  type ScoredCandidate,
} from './scoring.js';
import type { ChapterSource, ReanchorHint, ReanchorResult, TextAnchor } from './types.js';

/** Most exact occurrences of one pattern collected before ranking. */
const MAX_EXACT_SCAN = 4096;
/** A fuzzy match scoring this well is not worth checking other seed windows against. */
const CONFIDENT_SCORE = 0.9;
/** Extra room around a seed-implied start, beyond the error budget. */
const SEED_SLACK = 8;

const roundScore = (score: number): number => Math.round(score * 10_000) / 10_000;

/**
 * The matcher for one new revision of a book: built once (it indexes all chapter text, tens
 * of milliseconds for a long book) and reused for every highlight of that book. Not safe to
 * share across revisions; cheap to throw away.
 */
export class RevisionMatcher {
  readonly options: ResolvedReanchorOptions;
  private readonly revision: RevisionText;

  /** Throws BAD_USER_INPUT on invalid options or chapters (duplicate ids, oversize text). */
  constructor(chapters: ChapterSource, options: ReanchorOptions = {}) {
    this.options = resolveReanchorOptions(options);
    this.revision = new RevisionText(chapters);
  }

  /** Chapter ids in reading order. */
  get chapterIds(): string[] {
    return this.revision.chapters.map((c) => c.id);
  }

  reanchor(anchor: TextAnchor, hint: ReanchorHint = {}): ReanchorResult {
    const problem = anchorProblem(anchor, this.options.maxQuoteLength);
    if (problem !== null) {
      return { status: 'ORPHANED', reason: 'INVALID_ANCHOR', detail: `The stored anchor is invalid: ${problem}.` };
    }
    const home = this.revision.homeChapter(anchor.chapterId, hint.chapterIndex);
    if (home !== undefined && home.id === anchor.chapterId && this.intactAtOldOffsets(home, anchor)) {
      return { status: 'UNCHANGED', anchor: this.anchorIn(home, anchor.start, anchor.end) };
    }

    const { minScore } = this.options;
    let best: ScoredCandidate | null = null;
    if (home !== undefined) {
      const expected = home.start + Math.min(anchor.start, home.text.length);
      best = better(best, this.bestExact(anchor, { from: home.start, to: home.end }, expected));
      if (best !== null && best.score >= minScore) return this.placed(anchor, best);
      best = better(best, this.bestFuzzyInHome(anchor, home, expected));
      if (best !== null && best.score >= minScore) return this.placed(anchor, best);
    }
    if (this.options.searchOtherChapters) {
      const elsewhere: SearchScope = { from: 0, to: this.revision.text.length, ...(home ? { skip: home } : {}) };
      best = better(best, this.bestExact(anchor, elsewhere, null));
      if (best !== null && best.score >= minScore) return this.placed(anchor, best);
      best = better(best, this.bestFuzzy(anchor, elsewhere, null));
      if (best !== null && best.score >= minScore) return this.placed(anchor, best);
    }
    if (best === null) {
      return { status: 'ORPHANED', reason: 'NOT_FOUND', detail: 'The quote no longer occurs, even approximately.' };
    }
    return {
      status: 'ORPHANED',
      reason: 'LOW_SCORE',
      detail: `The closest match scored ${roundScore(best.score)}, below the ${minScore} needed.`,
      bestScore: roundScore(best.score),
    };
  }

  /** The quote still sits at its old offsets in its chapter, with its old context around it. */
  private intactAtOldOffsets(home: ChapterSpan, anchor: TextAnchor): boolean {
    const start = home.start + anchor.start;
    const end = start + anchor.exact.length;
    return (
      anchor.end - anchor.start === anchor.exact.length &&
      end <= home.end &&
      this.revision.text.startsWith(anchor.exact, start) &&
      contextIntactAt(this.revision.text, home, start, end, anchor)
    );
  }

  private anchorIn(chapter: ChapterSpan, start: number, end: number): TextAnchor {
    return anchorAt(chapter.text, chapter.id, start, end, this.options.contextChars);
  }

  private placed(old: TextAnchor, best: ScoredCandidate): ReanchorResult {
    const { chapter } = best;
    const anchor = this.anchorIn(chapter, best.start - chapter.start, best.end - chapter.start);
    const sameText = anchor.exact === old.exact;
    if (sameText && chapter.id === old.chapterId && anchor.start === old.start && anchor.end === old.end) {
      return { status: 'UNCHANGED', anchor };
    }
    return { status: 'MOVED', anchor, score: roundScore(best.score), method: sameText ? 'exact' : 'fuzzy' };
  }

  /**
   * The best exact occurrence of the quote in scope. The nearest occurrence with its stored
   * context intact wins outright; otherwise occurrences are ranked by how much context
   * agrees and only the first few are fully scored (short quotes can occur hundreds of times).
   */
  private bestExact(anchor: TextAnchor, scope: SearchScope, expected: number | null): ScoredCandidate | null {
    const { text } = this.revision;
    const length = anchor.exact.length;
    const distance = (s: number): number => (expected === null ? 0 : Math.abs(s - expected));
    const ranked: { chapter: ChapterSpan; start: number; agreement: number }[] = [];
    let intact: { chapter: ChapterSpan; start: number } | null = null;
    for (const start of this.exactStarts(anchor, scope)) {
      const chapter = this.revision.chapterContaining(start, start + length);
      if (chapter === undefined || chapter === scope.skip) continue;
      if (contextIntactAt(text, chapter, start, start + length, anchor)) {
        if (intact === null || distance(start) < distance(intact.start)) intact = { chapter, start };
      } else if (intact === null) {
        ranked.push({ chapter, start, agreement: contextAgreement(text, chapter, start, start + length, anchor) });
      }
    }
    if (intact !== null) {
      return scoreCandidate(text, anchor, { ...intact, end: intact.start + length, quoteScore: 1 }, expected);
    }
    ranked.sort((a, b) => b.agreement - a.agreement || distance(a.start) - distance(b.start));
    let best: ScoredCandidate | null = null;
    for (const { chapter, start } of ranked.slice(0, this.options.maxExactCandidates)) {
      best = better(best, scoreCandidate(text, anchor, { chapter, start, end: start + length, quoteScore: 1 }, expected));
    }
    return best;
  }

  /**
   * Book offsets where the quote occurs exactly in scope. A quote shorter than a gram cannot
   * use the index alone: it is looked up with a gram of its context attached (a bare short
   * quote is found everywhere and proves nothing without its context anyway). Only in the
   * highlight's own chapter, and only when neither side of its context survived, is the
   * chapter scanned for the bare quote.
   */
  private exactStarts(anchor: TextAnchor, scope: SearchScope): number[] {
    const { exact, prefix, suffix } = anchor;
    if (exact.length >= GRAM_LENGTH) return this.occurrences(exact, scope);
    const starts = new Set<number>();
    const before = prefix.slice(-GRAM_LENGTH);
    if (before.length > 0) for (const s of this.occurrences(before + exact, scope)) starts.add(s + before.length);
    const after = suffix.slice(0, GRAM_LENGTH);
    if (after.length > 0) for (const s of this.occurrences(exact + after, scope)) starts.add(s);
    if (starts.size === 0 && scope.skip === undefined) return this.occurrences(exact, scope);
    return [...starts].sort((a, b) => a - b);
  }

  /** Exact occurrences of `pattern` in scope: the gram index, else a scan bounded by chapter. */
  private occurrences(pattern: string, scope: SearchScope): number[] {
    const indexed = this.revision.index.occurrences(pattern, scope.from, scope.to, MAX_EXACT_SCAN);
    if (indexed !== null) return indexed;
    const found: number[] = [];
    for (const chapter of this.revision.chapters) {
      if (chapter.end <= scope.from || chapter.start >= scope.to || chapter === scope.skip) continue;
      for (let at = chapter.text.indexOf(pattern); at !== -1 && found.length < MAX_EXACT_SCAN; ) {
        const start = chapter.start + at;
        if (start >= scope.from && start + pattern.length <= scope.to) found.push(start);
        at = chapter.text.indexOf(pattern, at + 1);
      }
    }
    return found;
  }

  private bestFuzzyInHome(anchor: TextAnchor, home: ChapterSpan, expected: number): ScoredCandidate | null {
    const best = this.bestFuzzy(anchor, { from: home.start, to: home.end }, expected);
    if (best !== null && best.score >= this.options.minScore) return best;
    // No seed survived (the quote's pieces and its context were all edited): look around
    // the old position before giving up on this chapter.
    const around = matchesAround(
      this.revision,
      anchor,
      { chapter: home, center: expected },
      this.options.fuzzyWindow,
      this.options,
    );
    return better(best, this.bestOf(anchor, around, expected));
  }

  private bestFuzzy(anchor: TextAnchor, scope: SearchScope, expected: number | null): ScoredCandidate | null {
    const { maxErrorRatio, maxFuzzyQuoteLength } = this.options;
    const slack = maxErrorsFor(Math.min(anchor.exact.length, maxFuzzyQuoteLength), maxErrorRatio) + SEED_SLACK;
    let best: ScoredCandidate | null = null;
    // Windows come best-supported first; a near-certain match in one ends the search.
    for (const window of seedWindows(this.revision, anchor, scope, expected, slack)) {
      const candidates = matchesAround(this.revision, anchor, window, slack, this.options);
      best = better(best, this.bestOf(anchor, candidates, expected));
      if (best !== null && best.score >= CONFIDENT_SCORE) break;
    }
    return best;
  }

  private bestOf(anchor: TextAnchor, candidates: readonly Candidate[], expected: number | null): ScoredCandidate | null {
    let best: ScoredCandidate | null = null;
    for (const candidate of candidates) {
      best = better(best, scoreCandidate(this.revision.text, anchor, candidate, expected));
    }
    return best;
  }
}

/**
 * Re-anchors one highlight. Pass a `RevisionMatcher` when re-anchoring many highlights of one
 * book (it is built once); raw chapters build a matcher per call, which suits one-offs only.
 * Matcher options in `options` apply only when raw chapters are passed.
 */
export function reanchor(
  anchor: TextAnchor,
  chapters: RevisionMatcher | ChapterSource,
  options: ReanchorOptions & ReanchorHint = {},
): ReanchorResult {
  const { chapterIndex, ...matcherOptions } = options;
  const matcher = chapters instanceof RevisionMatcher ? chapters : new RevisionMatcher(chapters, matcherOptions);
  return matcher.reanchor(anchor, chapterIndex === undefined ? {} : { chapterIndex });
}
