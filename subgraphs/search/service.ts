/**
 * Search rules, free of GraphQL: input bounds, the query plan per mode and scope, the readable
 * filter (catalog decides, once per request), private note search and RAG answers.
 */
import { badInput } from '../../lib/errors.js';
import type { Caller } from '../../lib/identity.js';
import type { Logger } from '../../lib/logger.js';
import type { SearchHit, SearchMode as VectorMode, SparseVector, VectorStore } from '../../lib/vectors/index.js';
import { reciprocalRankFusion } from '../../lib/vectors/index.js';
import { answerable, extractiveAnswer, focusOn, generatedAnswer, paragraphAt, preferScriptOf, type AnswerResult, type LlmSettings, type Passage } from './answer.js';
import type { BookField, BookTitleHit, BookTitleIndex } from './bookTitles.js';
import { paragraphFilter, primaryLanguage, type ParagraphPayload } from './indexer.js';
import type { PrivatePayload } from './notes.js';
import type { Embedder, PrivateIndexes, SparseEncoder, TextAnalyzer } from './ports.js';
import { authorize, notAvailable, type ReadableCheck } from './policy.js';
import { snippet } from './snippet.js';
import type { BookIndexDoc, SearchStore } from './store.js';

export const SEARCH_MODES = ['KEYWORD', 'SEMANTIC', 'HYBRID'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];
export type SearchScope = 'ALL' | 'BOOKS' | 'AUTHORS' | 'FULL_TEXT';

export const LIMITS = {
  maxQueryChars: 1_000,
  maxQuestionChars: 2_000,
  defaultFirst: 20,
  maxFirst: 100,
  /** Deepest hit a client can page to: ranking deeper than this is noise, and it bounds the work per request. */
  maxWindow: 1_000,
  maxFilterBookIds: 100,
  maxFilterAuthors: 20,
  askPassages: 5,
} as const;

export interface SearchFilterInput {
  readonly bookIds?: readonly string[] | null;
  readonly language?: string | null;
  readonly authors?: readonly string[] | null;
}

export interface SearchInput {
  readonly query: string;
  readonly mode?: SearchMode | null;
  readonly scope?: SearchScope | null;
  readonly filter?: SearchFilterInput | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Page<T> {
  readonly items: ReadonlyArray<{ cursor: string; node: T }>;
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
  readonly totalCount: number;
}

export interface BookResult extends BookTitleHit {
  readonly highlightedTitle: string;
}

export interface ParagraphResult {
  readonly paragraphId: string;
  readonly paragraphIds: readonly string[];
  readonly bookId: string;
  readonly chapterId: string;
  readonly score: number;
  readonly language: string;
  readonly snippet: string;
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface SearchResults {
  readonly books: Page<BookResult>;
  readonly paragraphs: Page<ParagraphResult>;
}

export interface NoteResult extends PrivatePayload {
  readonly score: number;
  readonly snippet: string;
}

/** Which of these books the caller may read (per-request, batched: see loaders.ts). */
export type { ReadableCheck };

export interface SearchServiceOptions {
  readonly store: SearchStore;
  readonly vectors: VectorStore;
  readonly collection: string;
  readonly analyzer: TextAnalyzer;
  readonly embedder: Embedder;
  readonly sparse: SparseEncoder;
  readonly titles: BookTitleIndex;
  readonly privateIndexes: PrivateIndexes;
  readonly llm: LlmSettings | undefined;
  readonly logger: Logger;
}

// --- input checks -------------------------------------------------------------------------------

function cleanText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw badInput(`${field} must be a string.`, field);
  // Control characters carry no meaning in a query and only confuse tokenizers and logs.
  const text = value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ').trim();
  if (text.length === 0) throw badInput(`${field} must not be empty.`, field);
  if (text.length > max) throw badInput(`${field} must be at most ${max} characters.`, field);
  return text;
}

export function parseFirst(first: number | null | undefined): number {
  const value = first ?? LIMITS.defaultFirst;
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxFirst) throw badInput(`first must be between 1 and ${LIMITS.maxFirst}.`, 'first');
  return value;
}

export const encodeCursor = (offset: number): string => Buffer.from(`o:${offset}`).toString('base64url');

export function decodeCursor(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const match = typeof after === 'string' && after.length <= 32 ? /^o:(\d{1,6})$/.exec(Buffer.from(after, 'base64url').toString('utf8')) : null;
  const offset = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(offset) || offset < 1 || offset > LIMITS.maxWindow) throw badInput('after is not a cursor from this search.', 'after');
  return offset;
}

function parseFilter(filter: SearchFilterInput | null | undefined): { bookIds?: string[]; lang?: string; authors?: string[] } {
  if (!filter) return {};
  const out: { bookIds?: string[]; lang?: string; authors?: string[] } = {};
  if (filter.bookIds) {
    if (filter.bookIds.length > LIMITS.maxFilterBookIds) throw badInput(`filter.bookIds takes at most ${LIMITS.maxFilterBookIds} ids.`, 'filter.bookIds');
    if (filter.bookIds.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 200)) throw badInput('filter.bookIds holds an invalid id.', 'filter.bookIds');
    out.bookIds = [...new Set(filter.bookIds)];
  }
  if (filter.language) {
    if (!/^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/.test(filter.language)) throw badInput('filter.language must be a BCP 47 tag such as en or zh-CN.', 'filter.language');
    out.lang = primaryLanguage(filter.language);
  }
  if (filter.authors) {
    if (filter.authors.length > LIMITS.maxFilterAuthors) throw badInput(`filter.authors takes at most ${LIMITS.maxFilterAuthors} names.`, 'filter.authors');
    if (filter.authors.some((a) => typeof a !== 'string' || a.length === 0 || a.length > 200)) throw badInput('filter.authors holds an invalid name.', 'filter.authors');
    out.authors = [...new Set(filter.authors)];
  }
  return out;
}

function page<T>(all: readonly T[], offset: number, first: number): Page<T> {
  const slice = all.slice(offset, offset + first);
  const items = slice.map((node, i) => ({ cursor: encodeCursor(offset + i + 1), node }));
  return { items, hasNextPage: all.length > offset + first && offset + first < LIMITS.maxWindow, endCursor: items.at(-1)?.cursor ?? null, totalCount: all.length };
}

const VECTOR_MODE: Record<SearchMode, VectorMode> = { KEYWORD: 'sparse', SEMANTIC: 'dense', HYBRID: 'hybrid' };

// --- the service --------------------------------------------------------------------------------

export class SearchService {
  constructor(private readonly options: SearchServiceOptions) {}

  async search(input: SearchInput, readable: ReadableCheck): Promise<SearchResults> {
    const query = cleanText(input.query, 'query', LIMITS.maxQueryChars);
    // GraphQL validated the enums.
    const mode = input.mode ?? 'HYBRID';
    const scope = input.scope ?? 'ALL';
    const filter = parseFilter(input.filter);
    const first = parseFirst(input.first);
    const offset = decodeCursor(input.after);
    const window = Math.min(LIMITS.maxWindow, offset + first + 1);
    const terms = this.options.analyzer.terms(query);

    const fields: BookField[] = scope === 'ALL' ? ['TITLE', 'AUTHOR'] : scope === 'BOOKS' ? ['TITLE'] : scope === 'AUTHORS' ? ['AUTHOR'] : [];
    const bookCandidates = fields.length > 0 ? this.bookCandidates(query, fields, filter, window) : [];
    const paragraphCandidates = scope === 'ALL' || scope === 'FULL_TEXT' ? await this.paragraphCandidates(query, mode, filter, window) : [];

    // One readable check for every candidate of this request.
    const allowed = await readable([...new Set([...bookCandidates.map((b) => b.bookId), ...paragraphCandidates.map((h) => String(h.payload.bookId))])]);
    const books = bookCandidates.filter((b) => allowed.has(b.bookId)).map((b) => ({ ...b, highlightedTitle: snippet(b.title, b.terms, 1_000) }));
    const paragraphs = paragraphCandidates.filter((h) => allowed.has(String(h.payload.bookId))).map((h) => this.paragraphResult(h, terms));
    return { books: page(books, offset, first), paragraphs: page(paragraphs, offset, first) };
  }

  private bookCandidates(query: string, fields: readonly BookField[], filter: ReturnType<typeof parseFilter>, window: number): BookTitleHit[] {
    const bookIds = filter.bookIds && new Set(filter.bookIds);
    return this.options.titles.search(query, fields, window * 2, (doc) => {
      if (bookIds && !bookIds.has(doc.bookId)) return false;
      if (filter.lang && primaryLanguage(doc.language) !== filter.lang) return false;
      if (filter.authors && !doc.authors.some((a) => filter.authors!.includes(a))) return false;
      return true;
    });
  }

  /** Vector search for passages; over-fetches so the readable filter rarely leaves a page short. */
  private async paragraphCandidates(query: string, mode: SearchMode, filter: ReturnType<typeof parseFilter>, window: number, limit = Math.min(LIMITS.maxWindow, window * 2 + 10)): Promise<SearchHit[]> {
    if (filter.bookIds?.length === 0) return [];
    const { embedder, sparse: encoder, vectors, collection } = this.options;
    let vectorMode = VECTOR_MODE[mode];
    const sparse: SparseVector | undefined = vectorMode === 'dense' ? undefined : encoder.query(query);
    if (sparse && sparse.indices.length === 0) {
      // Nothing to match by keyword (only stop words or punctuation).
      if (vectorMode === 'sparse') return [];
      vectorMode = 'dense';
    }
    const dense = vectorMode === 'sparse' ? undefined : (await embedder.embed([query]))[0];
    const vectorFilter = paragraphFilter(filter);
    return vectors.search(collection, {
      mode: vectorMode,
      ...(dense ? { dense } : {}),
      ...(sparse && vectorMode !== 'dense' ? { sparse } : {}),
      ...(vectorFilter ? { filter: vectorFilter } : {}),
      limit,
    });
  }

  private paragraphResult(hit: SearchHit, terms: readonly string[]): ParagraphResult {
    const p = hit.payload as unknown as ParagraphPayload;
    const text = snippet(p.text, terms);
    const firstMark = p.text.toLowerCase().indexOf(terms.find((t) => p.text.toLowerCase().includes(t)) ?? '\u0000');
    return {
      paragraphId: paragraphAt(p, Math.max(0, firstMark)),
      paragraphIds: p.paragraphIds,
      bookId: p.bookId,
      chapterId: p.chapterId,
      score: hit.score,
      language: p.language,
      snippet: text,
      startOffset: p.startOffset,
      endOffset: p.endOffset,
    };
  }

  /** The caller's own notes and highlights; the index consulted is the caller's alone. */
  async searchMyNotes(caller: Caller, queryInput: string, firstInput: number | null | undefined): Promise<Page<NoteResult>> {
    authorize(caller, 'read', { type: 'OwnNotes' });
    const userId = caller.userId!;
    const query = cleanText(queryInput, 'query', LIMITS.maxQueryChars);
    const first = parseFirst(firstInput);
    const terms = this.options.analyzer.terms(query);
    // Keyword matches, and meaning matches above the embedder's floor, fused by rank: plain hybrid
    // search always returns the nearest notes, so a query that matches nothing listed them all.
    const { privateIndexes, embedder } = this.options;
    const [keyword, semantic] = await Promise.all([
      privateIndexes.search(userId, { text: query, mode: 'sparse', limit: first + 1 }),
      privateIndexes.search(userId, { text: query, mode: 'dense', limit: first + 1 }),
    ]);
    const relevant = semantic.filter((hit) => hit.score >= embedder.minSimilarity);
    const byId = new Map([...relevant, ...keyword].map((hit) => [hit.id, hit]));
    const hits = reciprocalRankFusion([keyword.map((h) => h.id), relevant.map((h) => h.id)]).map(({ id, score }) => ({ ...byId.get(id)!, score }));
    const notes = hits.map((hit) => {
      const p = hit.payload as unknown as PrivatePayload;
      return { ...p, score: hit.score, snippet: snippet(p.text ?? p.quote ?? '', terms) };
    });
    return page(notes, 0, first);
  }

  /** Retrieves passages the caller may read (narrowed to a book or a selected paragraph) and answers with citations. */
  async ask(args: { question: string; bookId?: string | null; paragraphId?: string | null }, readable: ReadableCheck): Promise<AnswerResult> {
    const question = cleanText(args.question, 'question', LIMITS.maxQuestionChars);
    const bookId = args.bookId ? cleanText(args.bookId, 'bookId', 200) : undefined;
    const paragraphId = args.paragraphId ? cleanText(args.paragraphId, 'paragraphId', 200) : undefined;
    const terms = this.options.analyzer.terms(question);
    const { vectors, collection, embedder } = this.options;

    let selected: SearchHit | undefined;
    if (paragraphId) {
      const dense = (await embedder.embed([question]))[0]!;
      [selected] = await vectors.search(collection, { mode: 'dense', dense, filter: { must: [{ key: 'paragraphIds', match: paragraphId }] }, limit: 1 });
      if (!selected || (bookId && selected.payload.bookId !== bookId)) throw notAvailable();
    }
    const scopeBook = bookId ?? (selected ? String(selected.payload.bookId) : undefined);
    const hits = await this.paragraphCandidates(question, 'HYBRID', scopeBook ? { bookIds: [scopeBook] } : {}, LIMITS.askPassages, LIMITS.askPassages * 4);
    const candidates = selected ? [selected, ...hits.filter((h) => h.id !== selected.id)] : hits;
    const allowed = await readable([...new Set(candidates.map((h) => String(h.payload.bookId)))]);
    if (selected && !allowed.has(String(selected.payload.bookId))) throw notAvailable();
    const readableHits = candidates.filter((h) => allowed.has(String(h.payload.bookId)));
    // Without a book to stay in, passages in the question's script come first: a Chinese question
    // is answered from Chinese text when there is any, an English one from English.
    const ordered = scopeBook ? readableHits : preferScriptOf(question, readableHits, (h) => String(h.payload.lang ?? ''));
    const passages: Passage[] = answerable(
      ordered.map((h) => {
        const passage: Passage = { ...(h.payload as unknown as ParagraphPayload), score: h.score };
        return h === selected && paragraphId ? focusOn(passage, paragraphId) : passage;
      }),
    ).slice(0, LIMITS.askPassages);
    const generated = this.options.llm ? await generatedAnswer(this.options.llm, question, passages, terms, this.options.logger) : null;
    return generated ?? extractiveAnswer(passages, terms);
  }

  /** Staff only: where indexing of a book stands. */
  async indexStatus(caller: Caller, bookId: string): Promise<BookIndexDoc | null> {
    authorize(caller, 'read', { type: 'IndexStatus' });
    return this.options.store.books.findOne({ _id: cleanText(bookId, 'bookId', 200) });
  }
}

