/**
 * Making anchors from a selection (user input, validated) and from a match (trusted offsets),
 * and checking stored anchors before re-anchoring them.
 */
import { badInput } from '../../../lib/errors.js';
import type { TextAnchor } from './types.js';

export const DEFAULT_CONTEXT_CHARS = 32;
export const DEFAULT_MAX_QUOTE_LENGTH = 20_000;
export const MAX_CHAPTER_ID_LENGTH = 512;
/** Stored context longer than this is not ours; it would also make scoring cost unbounded. */
const MAX_STORED_CONTEXT = 1024;

export interface DescribeAnchorOptions {
  /** Code units of context kept before and after the quote. @default 32 */
  readonly contextChars?: number;
  /** Longest quote accepted. @default 20000 */
  readonly maxQuoteLength?: number;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;
const WHITESPACE = /\s/;

/**
 * The anchor for `text.slice(start, end)` with its context; offsets are trusted. Context cuts
 * never split a surrogate pair, so stored context is always well-formed text.
 */
export function anchorAt(text: string, chapterId: string, start: number, end: number, contextChars: number): TextAnchor {
  let prefixStart = Math.max(0, start - contextChars);
  if (prefixStart > 0 && prefixStart < start && isLowSurrogate(text.charCodeAt(prefixStart))) prefixStart += 1;
  let suffixEnd = Math.min(text.length, end + contextChars);
  if (suffixEnd < text.length && suffixEnd > end && isHighSurrogate(text.charCodeAt(suffixEnd - 1))) suffixEnd -= 1;
  return {
    chapterId,
    start,
    end,
    exact: text.slice(start, end),
    prefix: text.slice(prefixStart, start),
    suffix: text.slice(end, suffixEnd),
  };
}

/**
 * Describes a user's selection `[start, end)` of a chapter as an anchor. Leading and trailing
 * whitespace is trimmed off the selection (as Hypothesis does), because selections often pick
 * up a line break and whitespace is the text most often reflowed between revisions.
 * Throws BAD_USER_INPUT for out-of-range or non-integer offsets, a selection that is empty or
 * only whitespace, one that splits a character, or one longer than `maxQuoteLength`.
 */
export function describeAnchor(
  chapterText: string,
  chapterId: string,
  start: number,
  end: number,
  options: DescribeAnchorOptions = {},
): TextAnchor {
  const contextChars = options.contextChars ?? DEFAULT_CONTEXT_CHARS;
  const maxQuoteLength = options.maxQuoteLength ?? DEFAULT_MAX_QUOTE_LENGTH;
  if (typeof chapterId !== 'string' || chapterId.length === 0 || chapterId.length > MAX_CHAPTER_ID_LENGTH) {
    throw badInput('The chapter id is missing or too long.', 'chapterId');
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw badInput('Highlight offsets must be integers.', 'start');
  }
  if (start < 0 || end > chapterText.length || start >= end) {
    throw badInput(`Highlight range [${start}, ${end}) is outside the chapter (length ${chapterText.length}).`, 'start');
  }
  if (isLowSurrogate(chapterText.charCodeAt(start)) || isHighSurrogate(chapterText.charCodeAt(end - 1))) {
    throw badInput('Highlight offsets must not split a character.', 'start');
  }
  let s = start;
  let e = end;
  while (s < e && WHITESPACE.test(chapterText[s]!)) s += 1;
  while (e > s && WHITESPACE.test(chapterText[e - 1]!)) e -= 1;
  if (s === e) throw badInput('The highlighted text is empty or only whitespace.', 'start');
  if (e - s > maxQuoteLength) {
    throw badInput(`A highlight may span at most ${maxQuoteLength} characters.`, 'end');
  }
  return anchorAt(chapterText, chapterId, s, e, contextChars);
}

/**
 * What is wrong with a stored anchor, or null when it can be re-anchored. Stored data is
 * hostile too: a corrupt record must orphan one highlight, never fail the whole repair job.
 */
export function anchorProblem(anchor: TextAnchor, maxQuoteLength: number): string | null {
  if (anchor === null || typeof anchor !== 'object') return 'anchor is not an object';
  const { chapterId, start, end, exact, prefix, suffix } = anchor;
  if (typeof chapterId !== 'string' || chapterId.length > MAX_CHAPTER_ID_LENGTH) return 'chapterId is not a short string';
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    return 'start/end are not a valid range';
  }
  if (typeof exact !== 'string' || exact.trim().length === 0) return 'quote is empty or only whitespace';
  if (exact.length > maxQuoteLength) return `quote is longer than ${maxQuoteLength} characters`;
  if (typeof prefix !== 'string' || typeof suffix !== 'string') return 'prefix/suffix are not strings';
  if (prefix.length > MAX_STORED_CONTEXT || suffix.length > MAX_STORED_CONTEXT) return 'prefix/suffix are too long';
  return null;
}
