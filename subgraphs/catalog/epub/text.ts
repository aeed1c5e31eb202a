/** Private to the EPUB pipeline: text helpers shared by the XHTML, OPF and chapter stages. */
import { createHash } from 'node:crypto';

/**
 * Bytes → string for XML/XHTML entries: a BOM wins, then the XML declaration's encoding
 * (older Chinese EPUBs still ship GBK), then UTF-8. Unknown encodings fall back to UTF-8 with
 * replacement characters rather than failing the book.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return new TextDecoder('utf-8').decode(bytes.subarray(3));
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = bytes.subarray(0, 200).toString('latin1');
  const declared = /^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared) {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // Unknown label: fall through to UTF-8.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

// Han, kana, Hangul and CJK punctuation/fullwidth forms: scripts written without spaces.
const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u3000-\\u303f\\uff00-\\uffef';
const CJK_CHAR = new RegExp(`[${CJK}]`, 'u');
const CJK_WORD_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const LATIN_WORD = /[\p{L}\p{N}]/u;

/**
 * Collapses whitespace runs to one space and trims. A line break between two CJK characters
 * is dropped instead: XHTML wraps long Chinese lines, and a space there would be a typo.
 */
export function normalizeWhitespace(raw: string): string {
  return raw
    .replace(/[\s\u00a0\u200b\ufeff]+/g, (run, offset: number, whole: string) => {
      if (run === ' ') return run;
      if ((run.includes('\n') || run.includes('\r')) && CJK_CHAR.test(whole.charAt(offset - 1)) && CJK_CHAR.test(whole.charAt(offset + run.length))) {
        return '';
      }
      return ' ';
    })
    .trim();
}

/** Words as a reader counts them: each CJK character is one word, other words split on whitespace. */
export function countWords(text: string): number {
  let count = 0;
  const rest = text.replace(CJK_WORD_CHAR, () => {
    count += 1;
    return ' ';
  });
  for (const token of rest.split(/\s+/)) if (LATIN_WORD.test(token)) count += 1;
  return count;
}

export function sha256Hex(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex');
}

/**
 * Splits a block longer than `maxChars` at the last sentence end (Latin or CJK) in the window,
 * else the last space, else hard. Pieces are trimmed; none exceeds `maxChars`.
 */
export function splitLongParagraph(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    let cut = -1;
    for (const match of window.matchAll(/[.!?。！？…][”’"')）」』]*\s*/gu)) cut = match.index + match[0].length;
    if (cut < maxChars / 2) cut = window.lastIndexOf(' ') + 1;
    if (cut < maxChars / 2) cut = maxChars;
    // Never cut between a surrogate pair.
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff && cut > 1) cut -= 1;
    const piece = rest.slice(0, cut).trim();
    if (piece) pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.trim()) pieces.push(rest.trim());
  return pieces;
}
