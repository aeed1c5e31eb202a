/**
 * Tokenizer for English and Chinese mixed text, shared by indexing and querying so both sides
 * produce the same terms: NFKC + lowercase; CJK segmented by jieba (search mode, so "科幻小说"
 * also yields "科幻" and "小说"), paragraph by paragraph; Latin words lightly stemmed (plural
 * "s" only: aggressive stemmers conflate names and titles) with stop-words dropped.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

export type TokenizeLang = 'en' | 'zh';

/** Longest text tokenized at once; longer input is cut (callers chunk books long before this). */
export const MAX_TOKENIZE_CHARS = 1_000_000;
const MAX_CUSTOM_WORD_CHARS = 64;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const WORD = /[\p{L}\p{N}]+/gu;
const LATIN_TOKEN = /^[\p{L}\p{N}]+$/u;

const EN_STOP = new Set(
  'a an and are as at be been but by for from had has have he her his i if in into is it its me my no not of on or our she so than that the their them then there these they this to was we were what when which who will with you your'.split(' '),
);
const ZH_STOP = new Set('的 了 是 在 和 与 及 也 就 都 而 又 或 之 于 着 把 被 让 给 这 那 个 吗 呢 吧 啊 呀'.split(' '));

/** Light English stemming: plural endings only (Harman's S-stemmer). */
function stem(word: string): string {
  if (word.length <= 3 || !/[a-z]$/.test(word)) return word;
  if (word.endsWith('ies') && !word.endsWith('eies') && !word.endsWith('aies')) return word.slice(0, -3) + 'y';
  if (word.endsWith('es') && !word.endsWith('aes') && !word.endsWith('ees') && !word.endsWith('oes')) return word.slice(0, -1);
  if (word.endsWith('s') && !word.endsWith('us') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function pushLatin(word: string, out: string[]): void {
  if (EN_STOP.has(word)) return;
  out.push(stem(word));
}

export class Tokenizer {
  private jieba: Jieba | undefined;
  private readonly customWords = new Set<string>();

  /**
   * Teaches the segmenter words it must keep whole (book titles, author names). Idempotent;
   * words are normalised the way text is, so "三體" and "三体" variants match after NFKC only if equal.
   */
  addWords(words: readonly string[]): number {
    const fresh: string[] = [];
    for (const raw of words) {
      const word = raw.normalize('NFKC').toLowerCase().trim();
      if (word.length === 0 || word.length > MAX_CUSTOM_WORD_CHARS || /\s/.test(word) || this.customWords.has(word)) continue;
      this.customWords.add(word);
      fresh.push(word);
    }
    // A high frequency makes jieba prefer the whole word over its parts.
    if (fresh.length > 0) this.segmenter().loadDict(Buffer.from(fresh.map((w) => `${w} 100000 nz`).join('\n')));
    return fresh.length;
  }

  tokenize(text: string, lang?: TokenizeLang): string[] {
    const normalized = text.slice(0, MAX_TOKENIZE_CHARS).normalize('NFKC').toLowerCase();
    const out: string[] = [];
    for (const paragraph of normalized.split(/\n+/)) {
      if (paragraph.trim().length === 0) continue;
      if (lang === 'en' || (lang === undefined && !CJK.test(paragraph))) {
        for (const match of paragraph.matchAll(WORD)) pushLatin(match[0], out);
        continue;
      }
      for (const piece of this.segmenter().cutForSearch(paragraph, true)) {
        if (CJK.test(piece)) {
          if (!ZH_STOP.has(piece)) out.push(piece);
        } else if (LATIN_TOKEN.test(piece)) {
          pushLatin(piece, out);
        } else {
          // Mixed pieces (e.g. "c++", "v2.0"): keep their word characters.
          for (const match of piece.matchAll(WORD)) pushLatin(match[0], out);
        }
      }
    }
    return out;
  }

  private segmenter(): Jieba {
    // Loading the default dictionary takes a moment; do it once, on first CJK text.
    this.jieba ??= Jieba.withDict(dict);
    return this.jieba;
  }
}

const shared = new Tokenizer();

/** Tokenizes with the process-wide tokenizer (which knows every custom word added). */
export function tokenize(text: string, lang?: TokenizeLang): string[] {
  return shared.tokenize(text, lang);
}

/** Adds custom words (titles, names) to the process-wide tokenizer; returns how many were new. */
export function addCustomWords(words: readonly string[]): number {
  return shared.addWords(words);
}
