/** Private to the EPUB pipeline: text helpers shared by the XHTML, OPF and chapter stages. */
import { createHash } from 'node:crypto';

/**
 * Bytes → string for XML/XHTML entries: a BOM wins, then the XML declaration's encoding
 * (older Chinese EPUBs still ship GBK), then UTF-8. Unknown encodings fall back to UTF-8 with
 * replacement characters rather than failing the book.
 */
export function decodeText(bytes: Buffer): string {
  return stripControlCharacters(decodeBytes(bytes));
}

// C0 controls except tab, line feed and carriage return, and DEL: never text, and XML 1.0 forbids
// them, yet broken encoders emit them (invalid UTF-8 decodes to U+FFFD, which is kept).
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Removes every control character a chapter may never store (see CONTROL_CHARACTERS). */
export const stripControlCharacters = (text: string): string => text.replace(CONTROL_CHARACTERS, '');

/**
 * True when `bytes` cannot be a text document: a zip, image, PDF or font signature, or a head
 * where control bytes are common (a stray NUL in a chapter is damage to remove, not a reason to
 * drop the chapter, so one is not enough).
 */
export function looksBinary(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 8192);
  // UTF-16 text has NULs by design; its BOM says so.
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) return false;
  if (BINARY_SIGNATURES.some((signature) => head.subarray(0, signature.length).equals(signature))) return true;
  let controls = 0;
  for (const byte of head) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) controls += 1;
  return controls > head.length / 20;
}

const BINARY_SIGNATURES = [
  [0x50, 0x4b, 0x03, 0x04], // zip
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x25, 0x50, 0x44, 0x46], // PDF
  [0x00, 0x01, 0x00, 0x00], // TrueType
  [0x4f, 0x54, 0x54, 0x4f], // OpenType
  [0x77, 0x4f, 0x46, 0x46], // WOFF
].map((bytes) => Buffer.from(bytes));

function decodeBytes(bytes: Buffer): string {
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
const WHITESPACE_RUN = /[\s\u00a0\u200b\ufeff]+/g;
const LINE_BREAK = /[\n\r]/;

/**
 * Collapses whitespace runs to one space and trims. A line break between two CJK characters
 * is dropped instead: XHTML wraps long Chinese lines, and a space there would be a typo.
 */
export function normalizeWhitespace(raw: string): string {
  // Fast path (most text): no line breaks or no CJK, so every run is simply one space.
  if (!LINE_BREAK.test(raw) || !CJK_CHAR.test(raw)) return raw.replace(WHITESPACE_RUN, ' ').trim();
  return raw
    .replace(WHITESPACE_RUN, (run, offset: number, whole: string) =>
      LINE_BREAK.test(run) && CJK_CHAR.test(whole.charAt(offset - 1)) && CJK_CHAR.test(whole.charAt(offset + run.length))
        ? ''
        : ' ',
    )
    .trim();
}

/** A code unit that is a CJK ideograph, kana or Hangul syllable (each counts as one word). */
function isCjkWordUnit(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) || // CJK unified ideographs
    (code >= 0x3400 && code <= 0x4dbf) || // extension A
    (code >= 0xf900 && code <= 0xfaff) || // compatibility ideographs
    (code >= 0xd840 && code <= 0xd87f) || // high surrogates of extensions B–F (planes 2–3)
    (code >= 0x3040 && code <= 0x30ff) || // hiragana, katakana
    (code >= 0x31f0 && code <= 0x31ff) ||
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0x1100 && code <= 0x11ff)
  );
}

const isSpace = (code: number): boolean =>
  code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200b);
const isAsciiAlnum = (code: number): boolean =>
  (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

/**
 * Words as a reader counts them: each CJK character is one word; other text splits on
 * whitespace, and a token counts if it holds a letter or digit (so "—" is not a word).
 * A hand-written scan because it runs on every paragraph: the regex version cost ~40% of parse.
 */
export function countWords(text: string): number {
  let count = 0;
  let tokenHasAlnum = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isSpace(code) || isCjkWordUnit(code)) {
      if (tokenHasAlnum) count += 1;
      tokenHasAlnum = false;
      if (code >= 0xd840 && code <= 0xd87f) i += 1; // skip the low surrogate
      if (!isSpace(code)) count += 1;
    } else if (!tokenHasAlnum) {
      tokenHasAlnum = code < 0x80 ? isAsciiAlnum(code) : LETTER_OR_NUMBER.test(text.charAt(i));
    }
  }
  return tokenHasAlnum ? count + 1 : count;
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
