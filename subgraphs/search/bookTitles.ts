/**
 * Title and author search over the books search has indexed: a few thousand short strings, so
 * an in-memory MiniSearch (BM25+, prefix and fuzzy matching) rebuilt from `book_index` at
 * start-up and updated as books change. Chinese titles are tokenized by jieba plus single
 * characters, so "旅" finds "茶之旅" although jieba keeps "之旅" whole.
 */
import MiniSearch from 'minisearch';
import type { TextAnalyzer } from './ports.js';
import type { BookIndexDoc } from './store.js';

export type BookField = 'TITLE' | 'AUTHOR';

export interface BookTitleHit {
  readonly bookId: string;
  readonly score: number;
  readonly field: BookField;
  readonly title: string;
  readonly authors: readonly string[];
  readonly language: string;
  /** Document terms that matched, for highlighting. */
  readonly terms: readonly string[];
}

interface TitleDoc {
  id: string;
  title: string;
  authors: string[];
  language: string;
}

const CJK_CHARS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const HAS_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

export class BookTitleIndex {
  private readonly mini: MiniSearch<TitleDoc>;
  private readonly docs = new Map<string, TitleDoc>();

  constructor(private readonly analyzer: TextAnalyzer) {
    const tokenize = (text: string): string[] => [...this.analyzer.terms(text), ...(text.match(CJK_CHARS) ?? [])];
    this.mini = new MiniSearch<TitleDoc>({
      fields: ['title', 'authors'],
      extractField: (doc, field) => (field === 'authors' ? doc.authors.join('\n') : String(doc[field as keyof TitleDoc] ?? '')),
      tokenize,
      // The analyzer already normalises; MiniSearch must not re-process its terms.
      processTerm: (term) => term,
    });
  }

  get size(): number {
    return this.docs.size;
  }

  /** Adds, replaces or (for a book no longer indexed) removes one book. */
  apply(book: Pick<BookIndexDoc, '_id' | 'state' | 'title' | 'authors' | 'language'>): void {
    if (this.docs.has(book._id)) {
      this.mini.discard(book._id);
      this.docs.delete(book._id);
    }
    if (book.state === 'REMOVED' || (book.title === '' && book.authors.length === 0)) return;
    const doc: TitleDoc = { id: book._id, title: book.title, authors: [...book.authors], language: book.language };
    this.mini.add(doc);
    this.docs.set(doc.id, doc);
  }

  /** Books whose title or author matches the query; each book once, in its better field. */
  search(query: string, fields: readonly BookField[], limit: number, accept: (doc: { bookId: string; authors: readonly string[]; language: string }) => boolean): BookTitleHit[] {
    const best = new Map<string, BookTitleHit>();
    for (const field of fields) {
      const results = this.mini.search(query, {
        fields: [field === 'TITLE' ? 'title' : 'authors'],
        prefix: (term) => term.length >= 2 || HAS_CJK.test(term),
        // One typo in 5+ letter words, two in 10+: MiniSearch's fraction of the term length.
        fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
        combineWith: 'OR',
      });
      for (const result of results) {
        const doc = this.docs.get(String(result.id));
        if (!doc || !accept({ bookId: doc.id, authors: doc.authors, language: doc.language })) continue;
        const previous = best.get(doc.id);
        if (previous && previous.score >= result.score) continue;
        best.set(doc.id, { bookId: doc.id, score: result.score, field, title: doc.title, authors: doc.authors, language: doc.language, terms: result.terms });
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score).slice(0, limit);
  }
}
