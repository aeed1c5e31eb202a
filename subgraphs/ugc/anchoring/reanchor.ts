/**
 * Re-anchoring a highlight in a new revision of its book, in the order Hypothesis's client
 * anchors (position, then quote, then approximate quote):
 *   1. the old offsets in the same chapter (same id, else same index), verified by the quote and
 *      its context → UNCHANGED (MOVED when only the chapter's id changed);
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
  expectationOf,
  scoreCandidate,
  type Candidate,
  type Expectation,
  type ScoredCandidate,
} from './scoring.js';
import type { ChapterSource, ReanchorHint, ReanchorResult, TextAnchor } from './types.js';

/** Most exact occurrences of one pattern collected before ranking. */
const MAX_EXACT_SCAN = 4096;
/** A match scoring this well (quote and context intact, or nearly) ends the search. */
const CONFIDENT_SCORE = 0.9;
/** Quotes this long with fewer distinct code units than the next are low-complexity:
 * real prose of 32 code units has 12 or more in English and 20 or more in Chinese. */
const LOW_COMPLEXITY_MIN_LENGTH = 32;
const LOW_COMPLEXITY_DISTINCT = 8;
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
    const exp = expectationOf(anchor, this.options.contextChars);
    const home = this.revision.homeChapter(anchor.chapterId, hint.chapterIndex);
    if (home !== undefined && this.intactAtOldOffsets(home, exp)) {
      // Also when the chapter was found by its index under a new id: the revision re-keyed
      // its chapters, and the same offsets of the same chapter position are still the best
      // place (reported as MOVED, since the chapter id changed).
      const start = home.start + anchor.start;
      const candidate = { chapter: home, start, end: start + anchor.exact.length, quoteScore: 1 };
      return this.placed(anchor, scoreCandidate(this.revision.text, exp, candidate, start));
    }

    const { minScore, searchOtherChapters } = this.options;
    const expected = home === undefined ? 0 : home.start + Math.min(anchor.start, home.text.length);
    const elsewhere: SearchScope = { from: 0, to: this.revision.text.length, ...(home ? { skip: home } : {}) };
    // Exact before approximate; the highlight's own chapter first, and a near-certain match
    // (quote and context intact) ends the search at once. Otherwise the best exact matches
    // here and elsewhere are compared with the approximate ones before anything is trusted:
    // a split chapter shifts the indices of the chapters after it, so "here" can be wrong.
    const stages: [search: () => ScoredCandidate | null, threshold: number][] = [];
    if (home) stages.push([() => this.bestExact(exp, { from: home.start, to: home.end }, expected), CONFIDENT_SCORE]);
    if (searchOtherChapters) stages.push([() => this.bestExact(exp, elsewhere, null), CONFIDENT_SCORE]);
    if (!isLowComplexity(anchor.exact)) {
      if (home) stages.push([() => this.bestFuzzyInHome(exp, home, expected), minScore]);
      if (searchOtherChapters) stages.push([() => this.bestFuzzy(exp, elsewhere, null), minScore]);
    }
    let best: ScoredCandidate | null = null;
    for (const [search, threshold] of stages) {
      best = better(best, search());
      if (best !== null && best.score >= threshold) return this.placed(anchor, best);
    }
    if (best !== null && best.score >= minScore) return this.placed(anchor, best);
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
  private intactAtOldOffsets(home: ChapterSpan, exp: Expectation): boolean {
    const { anchor } = exp;
    const start = home.start + anchor.start;
    const end = start + anchor.exact.length;
    return (
      anchor.end - anchor.start === anchor.exact.length &&
      end <= home.end &&
      this.revision.text.startsWith(anchor.exact, start) &&
      contextIntactAt(this.revision.text, home, start, end, exp)
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
  private bestExact(exp: Expectation, scope: SearchScope, expected: number | null): ScoredCandidate | null {
    const { text } = this.revision;
    const length = exp.anchor.exact.length;
    const distance = (s: number): number => (expected === null ? 0 : Math.abs(s - expected));
    const ranked: { chapter: ChapterSpan; start: number; agreement: number }[] = [];
    let intact: { chapter: ChapterSpan; start: number } | null = null;
    for (const start of this.exactStarts(exp.anchor, scope)) {
      const chapter = this.revision.chapterContaining(start, start + length);
      if (chapter === undefined || chapter === scope.skip) continue;
      if (contextIntactAt(text, chapter, start, start + length, exp)) {
        if (intact === null || distance(start) < distance(intact.start)) intact = { chapter, start };
      } else if (intact === null) {
        ranked.push({ chapter, start, agreement: contextAgreement(text, chapter, start, start + length, exp) });
      }
    }
    if (intact !== null) {
      return scoreCandidate(text, exp, { ...intact, end: intact.start + length, quoteScore: 1 }, expected);
    }
    ranked.sort((a, b) => b.agreement - a.agreement || distance(a.start) - distance(b.start));
    let best: ScoredCandidate | null = null;
    for (const { chapter, start } of ranked.slice(0, this.options.maxExactCandidates)) {
      best = better(best, scoreCandidate(text, exp, { chapter, start, end: start + length, quoteScore: 1 }, expected));
    }
    return best;
  }

  /**
   * Book offsets where the quote occurs exactly in scope. A quote shorter than a gram cannot
   * use the index alone: it is looked up with a gram of its context attached (a bare short
   * quote is found everywhere and proves nothing without its context anyway). When neither
   * side of its context survived, only the approximate search near its old position, which
   * is bounded, can still place it.
   */
  private exactStarts(anchor: TextAnchor, scope: SearchScope): number[] {
    const { exact, prefix, suffix } = anchor;
    if (exact.length >= GRAM_LENGTH) return this.occurrences(exact, scope);
    const starts = new Set<number>();
    const before = prefix.slice(-GRAM_LENGTH);
    if (before.length > 0) for (const s of this.occurrences(before + exact, scope)) starts.add(s + before.length);
    const after = suffix.slice(0, GRAM_LENGTH);
    if (after.length > 0) for (const s of this.occurrences(exact + after, scope)) starts.add(s);
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

  private bestFuzzyInHome(exp: Expectation, home: ChapterSpan, expected: number): ScoredCandidate | null {
    const best = this.bestFuzzy(exp, { from: home.start, to: home.end }, expected);
    if (best !== null && best.score >= this.options.minScore) return best;
    // No seed survived (the quote's pieces and its context were all edited): look around
    // the old position before giving up on this chapter. The window grows with the quote:
    // a short quote found far from its old place, without its context, proves nothing, and
    // in repetitive text it matches everywhere (each match costs a reverse search).
    const slack = Math.min(this.options.fuzzyWindow, 8 * exp.anchor.exact.length + 64);
    const around = matchesAround(this.revision, exp.anchor, { chapter: home, center: expected }, slack, this.options);
    return better(best, this.bestOf(exp, around, expected));
  }

  private bestFuzzy(exp: Expectation, scope: SearchScope, expected: number | null): ScoredCandidate | null {
    const { anchor } = exp;
    const { maxErrorRatio, maxFuzzyQuoteLength } = this.options;
    const slack = maxErrorsFor(Math.min(anchor.exact.length, maxFuzzyQuoteLength), maxErrorRatio) + SEED_SLACK;
    let best: ScoredCandidate | null = null;
    // Windows come best-supported first; a near-certain match in one ends the search.
    for (const window of seedWindows(this.revision, anchor, scope, expected, slack)) {
      const candidates = matchesAround(this.revision, anchor, window, slack, this.options);
      best = better(best, this.bestOf(exp, candidates, expected));
      if (best !== null && best.score >= CONFIDENT_SCORE) break;
    }
    return best;
  }

  private bestOf(exp: Expectation, candidates: readonly Candidate[], expected: number | null): ScoredCandidate | null {
    let best: ScoredCandidate | null = null;
    for (const candidate of candidates) {
      best = better(best, scoreCandidate(this.revision.text, exp, candidate, expected));
    }
    return best;
  }
}

/**
 * A long quote made of very few distinct code units ("* * * * *", "ha ha ha …"). Approximate
 * search of such a quote in equally repetitive text matches at almost every position, and
 * approx-string-match then runs a reverse search per match: hundreds of milliseconds per
 * highlight (measured). Such quotes are only matched exactly.
 */
function isLowComplexity(quote: string): boolean {
  if (quote.length < LOW_COMPLEXITY_MIN_LENGTH) return false;
  const seen = new Set<number>();
  for (let i = 0; i < quote.length && i < 256; i += 1) {
    seen.add(quote.charCodeAt(i));
    if (seen.size >= LOW_COMPLEXITY_DISTINCT) return false;
  }
  return true;
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
