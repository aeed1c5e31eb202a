/**
 * Approximate matching of an edited quote, bounded so its cost does not grow with the book:
 * "filter, then verify". Seeds (exact pieces of the quote and of its stored context) are
 * looked up in the gram index; each hit votes for where the quote would start; only small
 * windows around the best-voted starts (and, in the highlight's own chapter, around its old
 * position) are searched with approx-string-match, allowing errors in proportion to the
 * quote's length. Private to the anchoring library.
 */
import approxSearch from 'approx-string-match';
import { GRAM_LENGTH } from './gramIndex.js';
import type { ChapterSpan, RevisionText } from './revision.js';
import type { Candidate } from './scoring.js';
import type { TextAnchor } from './types.js';

/** Pieces of the quote used as seeds (spread evenly over it). */
const MAX_QUOTE_SEEDS = 8;
/** A seed occurring more often than this in scope says nothing about where the quote is. */
const MAX_SEED_HITS = 8;
/** Seed clusters (windows) verified per scope. */
const MAX_WINDOWS = 3;
/** Equally good matches kept per window (approx-string-match reports every best end). */
const MAX_MATCHES_PER_WINDOW = 8;

export interface FuzzyLimits {
  readonly maxErrorRatio: number;
  readonly maxFuzzyQuoteLength: number;
}

/** Where to look: book offsets `[from, to)`, minus one chapter already searched. */
export interface SearchScope {
  readonly from: number;
  readonly to: number;
  readonly skip?: ChapterSpan;
}

/** A likely start of the quote, with the chapter the evidence came from. */
export interface Window {
  readonly chapter: ChapterSpan;
  readonly center: number;
}

interface Seed {
  readonly text: string;
  /** Added to a seed hit's offset to get the implied quote start. */
  readonly delta: number;
}

export const maxErrorsFor = (length: number, ratio: number): number => Math.max(1, Math.floor(length * ratio));

function seedsOf(anchor: TextAnchor): Seed[] {
  const { exact, prefix, suffix } = anchor;
  const seeds: Seed[] = [];
  if (exact.length >= GRAM_LENGTH) {
    const span = exact.length - GRAM_LENGTH;
    const count = Math.min(MAX_QUOTE_SEEDS, Math.ceil(exact.length / GRAM_LENGTH));
    let last = -1;
    for (let k = 0; k < count; k += 1) {
      const offset = count === 1 ? 0 : Math.round((k * span) / (count - 1));
      if (offset === last) continue;
      last = offset;
      seeds.push({ text: exact.slice(offset, offset + GRAM_LENGTH), delta: -offset });
    }
  }
  if (prefix.length >= GRAM_LENGTH) seeds.push({ text: prefix.slice(-GRAM_LENGTH), delta: GRAM_LENGTH });
  if (suffix.length >= GRAM_LENGTH) seeds.push({ text: suffix.slice(0, GRAM_LENGTH), delta: -exact.length });
  return seeds;
}

/**
 * The best-supported likely starts of the quote within `scope`: seed hits are grouped when
 * they imply starts within `gap` of each other; groups with more distinct seeds come first,
 * then those nearer `expectedStart`.
 */
export function seedWindows(
  revision: RevisionText,
  anchor: TextAnchor,
  scope: SearchScope,
  expectedStart: number | null,
  gap: number,
): Window[] {
  const votes: { start: number; seed: number; chapter: ChapterSpan }[] = [];
  for (const [seedNo, seed] of seedsOf(anchor).entries()) {
    for (const hit of revision.index.seedOccurrences(seed.text, scope.from, scope.to, MAX_SEED_HITS)) {
      const chapter = revision.chapterAt(hit);
      if (!chapter || chapter === scope.skip) continue;
      votes.push({ start: hit + seed.delta, seed: seedNo, chapter });
    }
  }
  if (votes.length === 0) return [];
  votes.sort((a, b) => a.start - b.start);

  const clusters: { window: Window; support: number }[] = [];
  let group = [votes[0]!];
  const close = (): void => {
    const median = group[group.length >> 1]!;
    clusters.push({
      window: { chapter: median.chapter, center: median.start },
      support: new Set(group.map((v) => v.seed)).size,
    });
  };
  for (const vote of votes.slice(1)) {
    const prev = group[group.length - 1]!;
    if (vote.start - prev.start <= gap && vote.chapter === prev.chapter) group.push(vote);
    else {
      close();
      group = [vote];
    }
  }
  close();

  const distance = (w: Window): number => (expectedStart === null ? 0 : Math.abs(w.center - expectedStart));
  clusters.sort((a, b) => b.support - a.support || distance(a.window) - distance(b.window));
  return clusters.slice(0, MAX_WINDOWS).map((c) => c.window);
}

interface Hit {
  readonly start: number;
  readonly end: number;
  readonly errors: number;
}

/** Shortest stored-context piece trusted to mark where the quote begins or ends. */
const MIN_BOUNDARY_CONTEXT = 4;
const BOUNDARY_CONTEXT = 16;

/**
 * Moves a fuzzy match's ends to where the stored context says the quote begins and ends.
 * Approximate search reports the cheapest substring, so a quote whose first word was
 * replaced by a longer one ("To …" → "Yesterday …") matches from inside the new word
 * ("ay …"); the intact context around it knows better. Each end moves at most `slack`; the
 * code units moved are added to the error count (an upper bound of the true edit distance).
 */
function snapToContext(
  text: string,
  chapter: ChapterSpan,
  anchor: TextAnchor,
  hit: Hit,
  slack: number,
): Hit {
  let { start, end } = hit;
  const before = anchor.prefix.slice(-BOUNDARY_CONTEXT);
  if (before.length >= MIN_BOUNDARY_CONTEXT) {
    const from = Math.max(chapter.start, start - slack - before.length);
    const region = text.slice(from, Math.min(hit.end, start + slack));
    let nearest = -1;
    for (let at = region.indexOf(before); at !== -1; at = region.indexOf(before, at + 1)) {
      const s = from + at + before.length;
      if (nearest === -1 || Math.abs(s - hit.start) < Math.abs(nearest - hit.start)) nearest = s;
    }
    if (nearest !== -1) start = nearest;
  }
  const after = anchor.suffix.slice(0, BOUNDARY_CONTEXT);
  if (after.length >= MIN_BOUNDARY_CONTEXT) {
    const from = Math.max(start + 1, hit.end - slack);
    const region = text.slice(from, Math.min(chapter.end, hit.end + slack + after.length));
    let nearest = -1;
    for (let at = region.indexOf(after); at !== -1; at = region.indexOf(after, at + 1)) {
      const e = from + at;
      if (nearest === -1 || Math.abs(e - hit.end) < Math.abs(nearest - hit.end)) nearest = e;
    }
    if (nearest !== -1) end = nearest;
  }
  if (end <= start) return hit;
  return { start, end, errors: hit.errors + Math.abs(start - hit.start) + Math.abs(end - hit.end) };
}

/** Best approximate matches of `pattern` in book text `[from, to)`, nearest `near` first. */
function searchRange(text: string, from: number, to: number, pattern: string, maxErrors: number, near: number): Hit[] {
  if (to - from < pattern.length - maxErrors || to <= from) return [];
  return approxSearch(text.slice(from, to), pattern, maxErrors)
    .map((m) => ({ start: from + m.start, end: from + m.end, errors: m.errors }))
    .sort((a, b) => Math.abs(a.start - near) - Math.abs(b.start - near))
    .slice(0, MAX_MATCHES_PER_WINDOW);
}

/**
 * Candidates for the quote starting within `slack` of `window.center`, in the window's
 * chapter. Quotes longer than `maxFuzzyQuoteLength` are matched by their head and tail
 * (half that length each): the head is searched around the center, the tail where the head
 * says the quote ends, allowing the length to change by the error budget. The quote score of
 * such a match is estimated from head and tail errors and the change of length.
 */
export function matchesAround(
  revision: RevisionText,
  anchor: TextAnchor,
  window: Window,
  slack: number,
  limits: FuzzyLimits,
): Candidate[] {
  const { chapter, center } = window;
  const { text } = revision;
  const clampFrom = (n: number): number => Math.max(chapter.start, n);
  const clampTo = (n: number): number => Math.min(chapter.end, n);
  const quote = anchor.exact;
  const length = quote.length;

  if (length <= limits.maxFuzzyQuoteLength) {
    const maxErrors = maxErrorsFor(length, limits.maxErrorRatio);
    return searchRange(text, clampFrom(center - slack), clampTo(center + length + slack), quote, maxErrors, center).map((hit) => {
      const h = hit.errors === 0 ? hit : snapToContext(text, chapter, anchor, hit, maxErrors);
      return { chapter, start: h.start, end: h.end, quoteScore: Math.max(0, 1 - h.errors / length) };
    });
  }

  const half = limits.maxFuzzyQuoteLength >> 1;
  const head = quote.slice(0, half);
  const tail = quote.slice(length - half);
  const halfErrors = maxErrorsFor(half, limits.maxErrorRatio);
  // How much the untested middle may grow or shrink; capped so the tail window stays small.
  const lengthSlack = Math.min(maxErrorsFor(length, limits.maxErrorRatio), 4 * limits.maxFuzzyQuoteLength);
  const candidates: Candidate[] = [];
  for (const h of searchRange(text, clampFrom(center - slack), clampTo(center + half + slack), head, halfErrors, center).slice(0, 2)) {
    const expectedEnd = h.start + length;
    const tails = searchRange(
      text,
      clampFrom(Math.max(h.end, expectedEnd - half - lengthSlack - halfErrors)),
      clampTo(expectedEnd + lengthSlack + halfErrors),
      tail,
      halfErrors,
      expectedEnd - half,
    );
    let best: Hit | undefined;
    for (const t of tails) {
      if (!best || Math.abs(t.end - expectedEnd) < Math.abs(best.end - expectedEnd)) best = t;
    }
    if (!best) continue;
    const joined = { start: h.start, end: best.end, errors: h.errors + best.errors };
    const snapped = joined.errors === 0 ? joined : snapToContext(text, chapter, anchor, joined, halfErrors);
    const lengthChange = Math.abs(snapped.end - snapped.start - length) / length;
    candidates.push({
      chapter,
      start: snapped.start,
      end: snapped.end,
      quoteScore: Math.max(0, 1 - snapped.errors / (2 * half) - lengthChange),
    });
  }
  return candidates;
}
