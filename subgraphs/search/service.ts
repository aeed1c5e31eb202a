/**
 * Search rules, free of GraphQL: input bounds, the query plan per mode and scope, the readable
 * filter (catalog decides, once per request), private note search and RAG answers.
 */
import { badInput } from '../../lib/errors.js';
import type { Caller } from '../../lib/identity.js';
import type { Logger } from '../../lib/logger.js';
import { connectionOf, keyAfter, pageSize, type Connection, type CountedConnection } from '../../lib/pagination.js';
import { check, id, language, list, name, text } from '../../lib/validation.js';
import type { SearchHit, SearchMode as VectorMode, SparseVector, VectorStore } from '../../lib/vectors/index.js';
import { reciprocalRankFusion } from '../../lib/vectors/index.js';
import { answerable, extractiveAnswer, focusOn, generatedAnswer, paragraphAt, preferScriptOf, type AnswerResult, type LlmSettings, type Passage } from './answer.js';
import type { BookField, BookTitleHit, BookTitleIndex } from './bookTitles.js';
import { paragraphFilter, primaryLanguage, type ParagraphPayload } from './indexer.js';
import type { PrivatePayload } from './notes.js';
import type { Embedder, PrivateIndexes, SparseEncoder, TextAnalyzer } from './ports.js';
import { embedQuery } from './ports.js';
import { authorize, notAvailable, type ReadableCheck } from './policy.js';
import { snippet } from './snippet.js';
import type { BookIndexDoc, SearchStore } from './store.js';

export const SEARCH_MODES = ['KEYWORD', 'SEMANTIC', 'HYBRID'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];
export type SearchScope = 'ALL' | 'BOOKS' | 'AUTHORS' | 'FULL_TEXT';

export const LIMITS = {
  maxQueryChars: 1_000,
  maxQuestionChars: 2_000,
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
  readonly books: CountedConnection<BookResult>;
  readonly paragraphs: CountedConnection<ParagraphResult>;
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

/** Queries and questions: control characters mean nothing in them, so they become spaces rather than an error. */
const searchText = (max: number) => text({ max, replaceControls: true });

/** Ranked hits page by offset: the cursor carries how many hits came before, at most the search window. */
export function offsetAfter(after: string | null | undefined): number {
  const offset = keyAfter(after, 'number') ?? 0;
  if (after != null && (!Number.isInteger(offset) || offset < 1 || offset > LIMITS.maxWindow)) throw badInput('after is not a cursor from this search.', 'after');
  return offset;
}

function parseFilter(filter: SearchFilterInput | null | undefined): { bookIds?: string[]; lang?: string; authors?: string[] } {
  if (!filter) return {};
  const out: { bookIds?: string[]; lang?: string; authors?: string[] } = {};
  if (filter.bookIds) out.bookIds = check(list(id, LIMITS.maxFilterBookIds), filter.bookIds, 'filter.bookIds');
  if (filter.language) out.lang = primaryLanguage(check(language, filter.language, 'filter.language'));
  // Matched exactly against the authors catalog stored (cleaned the same way).
  if (filter.authors) out.authors = check(list(name(200), LIMITS.maxFilterAuthors), filter.authors, 'filter.authors');
  return out;
}

/** Hits never page past the search window: the slice stops there, so the last page says so. */
function page<T>(all: readonly T[], offset: number, first: number): CountedConnection<T> {
  return connectionOf(all.slice(offset, Math.min(offset + first + 1, LIMITS.maxWindow)), first, (_, i) => [offset + i + 1], all.length);
}

const VECTOR_MODE: Record<SearchMode, VectorMode> = { KEYWORD: 'sparse', SEMANTIC: 'dense', HYBRID: 'hybrid' };

// --- the service --------------------------------------------------------------------------------

export class SearchService {
  constructor(private readonly options: SearchServiceOptions) {}

  async search(input: SearchInput, readable: ReadableCheck): Promise<SearchResults> {
    const query = check(searchText(LIMITS.maxQueryChars), input.query, 'query');
    // GraphQL validated the enums.
    const mode = input.mode ?? 'HYBRID';
    const scope = input.scope ?? 'ALL';
    const filter = parseFilter(input.filter);
    const first = pageSize(input.first);
    const offset = offsetAfter(input.after);
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
    const dense = vectorMode === 'sparse' ? undefined : await embedQuery(embedder, query);
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
  async searchMyNotes(caller: Caller, queryInput: string, firstInput: number | null | undefined): Promise<Connection<NoteResult>> {
    authorize(caller, 'read', { type: 'OwnNotes' });
    const userId = caller.userId!;
    const query = check(searchText(LIMITS.maxQueryChars), queryInput, 'query');
    const first = pageSize(firstInput);
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
    const question = check(searchText(LIMITS.maxQuestionChars), args.question, 'question');
    const bookId = args.bookId ? check(id, args.bookId, 'bookId') : undefined;
    const paragraphId = args.paragraphId ? check(id, args.paragraphId, 'paragraphId') : undefined;
    const terms = this.options.analyzer.terms(question);
    const { vectors, collection, embedder } = this.options;

    let selected: SearchHit | undefined;
    if (paragraphId) {
      const dense = await embedQuery(embedder, question);
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
    return this.options.store.books.findOne({ _id: check(id, bookId, 'bookId') });
  }
}

