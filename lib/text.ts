/**
 * The one check for text a person typed (names, bios, notes, reviews, titles, queries): every
 * service cleans user text through `cleanText` (or lib/validation.ts's schemas, built on it), so
 * the rules cannot drift between subgraphs.
 */
import { badInput } from './errors.js';

// C0 controls except tab, line feed and carriage return, plus DEL: never stored.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// Bidirectional embedding/override/isolate marks and the implicit marks: they reorder what a
// reader sees (a review whose text displays differently from what it says, "Trojan Source").
// Stripped rather than refused: they arrive by accident with pasted right-to-left text.
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface CleanTextOptions {
  /** Longest accepted length, counted in UTF-16 code units after cleaning. */
  readonly max: number;
  /** Shortest accepted length after cleaning (default 1: empty text is refused). */
  readonly min?: number;
  /** Collapse every run of whitespace, newlines included, to one space (titles, names). */
  readonly singleLine?: boolean;
  /** Turn control characters into spaces instead of refusing them (search queries, where they mean nothing). */
  readonly replaceControls?: boolean;
}

/** The cleaned text, or what is wrong with it (a predicate such as "must not be empty"). */
export function checkText(value: unknown, options: CleanTextOptions): { text: string } | { problem: string } {
  if (typeof value !== 'string') return { problem: 'must be text.' };
  if (LONE_SURROGATE.test(value)) return { problem: 'contains invalid characters (lone surrogates).' };
  let text = value;
  if (options.replaceControls) text = text.replace(new RegExp(CONTROL.source, 'g'), ' ');
  else if (CONTROL.test(text)) return { problem: 'contains control characters.' };
  text = text.normalize('NFC').replace(BIDI, '');
  text = options.singleLine ? text.replace(/\s+/g, ' ').trim() : text.trim();
  const min = options.min ?? 1;
  if (text.length < min) return { problem: min === 1 ? 'must not be empty.' : `must be at least ${min} characters.` };
  if (text.length > options.max) return { problem: `must be at most ${options.max} characters.` };
  return { text };
}

/**
 * NFC-normalised, trimmed text with bidi controls removed; refuses lone surrogates (not text:
 * they break UTF-8 encoders downstream) and control characters, naming `field` in the error.
 */
export function cleanText(value: unknown, field: string, options: CleanTextOptions): string {
  const checked = checkText(value, options);
  if ('problem' in checked) throw badInput(`${field} ${checked.problem}`, field);
  return checked.text;
}
