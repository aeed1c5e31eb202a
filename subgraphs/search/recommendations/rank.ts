/**
 * Ranking over a source of book data: similar books, a reader's books, cold start and a
 * popularity baseline. The service runs it over the stored data (model.ts); the offline
 * evaluation runs the same code over an in-memory population.
 */
import { blend, coReading, dominantSource, dot, primarySubtag, scaleSignals, weightedMean, type ReasonSource } from './scoring.js';

export interface CandidateBook {
  readonly id: string;
  readonly title: string;
  readonly authors: readonly string[];
  readonly language: string;
  readonly publishedAt: number;
  /** Unit length (so a cosine is a dot product), or null for a book without text. */
  readonly vector: Float32Array | null;
}

/** Seeds whose similarity is compared when wording a content reason (the heaviest ones). */
const REASON_SEEDS = 10;

export interface Neighbour {
  readonly bookId: string;
  /** Readers with both books (already ≥ k: the source never hands out smaller pairs). */
  readonly together: number;
}

export interface RecSource {
  /** Published books by id. */
  books(): ReadonlyMap<string, CandidateBook>;
  /** Readers with the book on a non-secret shelf entry. */
  readers(bookId: string): number;
  /** The book's co-read books with at least k readers in common, most first. */
  neighbours(bookId: string): Promise<readonly Neighbour[]>;
  readonly k: number;
  readonly dimension: number;
}

export type RankMode = 'blend' | 'content' | 'coReading';

export interface Ranked {
  readonly bookId: string;
  readonly score: number;
  readonly source: ReasonSource;
  /** The books the reason names: the reader's own seeds, or the book a similar list is for. */
  readonly basedOn: readonly string[];
}

export interface Seed {
  readonly bookId: string;
  readonly weight: number;
}

/** Seeds used per request: the heaviest ones carry the profile; this bounds the work for a reader with thousands of books. */
export const MAX_SEEDS = 30;

const byScore = (a: Ranked, b: Ranked): number => b.score - a.score || (a.bookId < b.bookId ? -1 : 1);

/** Books like `bookId`: content and co-reading blended (or one of them), best first, `limit` at most. */
export async function similarTo(src: RecSource, bookId: string, options: { mode?: RankMode; limit: number; exclude?: ReadonlySet<string> }): Promise<Ranked[]> {
  const mode = options.mode ?? 'blend';
  const books = src.books();
  const target = books.get(bookId);
  const co = new Map<string, number>();
  if (mode !== 'content') {
    const readersA = src.readers(bookId);
    for (const n of await src.neighbours(bookId)) co.set(n.bookId, coReading(n.together, readersA, src.readers(n.bookId), src.k));
  }
  const raw: Array<{ bookId: string; content: number; co: number }> = [];
  const consider = (id: string, book: CandidateBook): void => {
    if (id === bookId || options.exclude?.has(id)) return;
    const content = mode !== 'coReading' && target?.vector && book.vector ? dot(target.vector, book.vector) : 0;
    raw.push({ bookId: id, content, co: co.get(id) ?? 0 });
  };
  eachCandidate(books, mode, co.keys(), consider);
  return scoreAll(src, raw, mode, () => [bookId]).slice(0, options.limit);
}

/** Every published book is a candidate, but co-reading alone considers only co-read books. */
function eachCandidate(books: ReadonlyMap<string, CandidateBook>, mode: RankMode, coRead: Iterable<string>, consider: (id: string, book: CandidateBook) => void): void {
  if (mode !== 'coReading') {
    for (const [id, book] of books) consider(id, book);
    return;
  }
  for (const id of coRead) {
    const book = books.get(id);
    if (book) consider(id, book);
  }
}

/** Scores raw signals by mode (scaled and blended for 'blend'), drops non-positive ones, best first. */
function scoreAll(src: RecSource, raw: ReadonlyArray<{ bookId: string; content: number; co: number }>, mode: RankMode, basedOn: (bookId: string) => string[]): Ranked[] {
  const out: Ranked[] = [];
  for (const c of scaleSignals(raw)) {
    const score = mode === 'content' ? c.content : mode === 'coReading' ? c.co : blend(c.contentScaled, c.coScaled, src.readers(c.bookId));
    if (score <= 0 || (mode === 'blend' && c.content <= 0 && c.co <= 0)) continue;
    const source: ReasonSource = mode === 'content' ? 'CONTENT' : mode === 'coReading' ? 'CO_READING' : dominantSource(c.contentScaled, c.coScaled);
    out.push({ bookId: c.bookId, score, source, basedOn: basedOn(c.bookId) });
  }
  return out.sort(byScore);
}

/** Books for a reader from their weighted seeds; `exclude` holds what they have or dismissed. */
export async function forReader(src: RecSource, seedsIn: readonly Seed[], options: { mode?: RankMode; limit: number; exclude: ReadonlySet<string> }): Promise<Ranked[]> {
  const mode = options.mode ?? 'blend';
  const books = src.books();
  const seeds = [...seedsIn].filter((s) => s.weight > 0).sort((a, b) => b.weight - a.weight || (a.bookId < b.bookId ? -1 : 1)).slice(0, MAX_SEEDS);
  if (seeds.length === 0) return [];
  const totalWeight = seeds.reduce((sum, s) => sum + s.weight, 0);
  const seedVectors = seeds.flatMap((s) => {
    const vector = books.get(s.bookId)?.vector;
    return vector ? [{ bookId: s.bookId, vector, weight: s.weight }] : [];
  });
  const profile = mode === 'coReading' ? null : weightedMean(seedVectors, src.dimension);

  const co = new Map<string, { score: number; best: Array<{ seed: string; part: number }> }>();
  if (mode !== 'content') {
    const lists = await Promise.all(seeds.map((s) => src.neighbours(s.bookId)));
    seeds.forEach((seed, i) => {
      const readersA = src.readers(seed.bookId);
      for (const n of lists[i]!) {
        const part = (seed.weight * coReading(n.together, readersA, src.readers(n.bookId), src.k)) / totalWeight;
        if (part <= 0) continue;
        const entry = co.get(n.bookId) ?? { score: 0, best: [] };
        entry.score += part;
        entry.best.push({ seed: seed.bookId, part });
        co.set(n.bookId, entry);
      }
    });
  }

  const raw: Array<{ bookId: string; content: number; co: number }> = [];
  const consider = (id: string, book: CandidateBook): void => {
    if (options.exclude.has(id)) return;
    const content = profile && book.vector ? dot(profile, book.vector) : 0;
    raw.push({ bookId: id, content, co: co.get(id)?.score ?? 0 });
  };
  eachCandidate(books, mode, co.keys(), consider);
  const scored = scoreAll(src, raw, mode, () => []);
  // Reasons only for what is returned: the seed(s) that contributed most to this book.
  return scored.slice(0, options.limit).map((r) => {
    let basedOn: string[];
    if (r.source === 'CO_READING') {
      basedOn = (co.get(r.bookId)?.best ?? []).sort((a, b) => b.part - a.part).slice(0, 2).map((b) => b.seed);
    } else {
      const vector = books.get(r.bookId)?.vector;
      basedOn = vector
        ? seedVectors
            .slice(0, REASON_SEEDS)
            .map((s) => ({ seed: s.bookId, sim: dot(s.vector, vector) * Math.sqrt(s.weight) }))
            .sort((a, b) => b.sim - a.sim)
            .slice(0, 1)
            .map((s) => s.seed)
        : [];
    }
    return { ...r, basedOn };
  });
}

/**
 * For a reader without a profile (new, or personalisation off): books popular with at least k
 * readers, interleaved with the most recently published, in `language` when given.
 */
export function coldStart(src: RecSource, options: { language?: string | null; limit: number; exclude: ReadonlySet<string>; now: number }): Ranked[] {
  const lang = options.language ? primarySubtag(options.language) : null;
  const books = [...src.books().values()].filter((b) => !options.exclude.has(b.id) && (!lang || primarySubtag(b.language) === lang));
  const popular = books
    .filter((b) => src.readers(b.id) >= src.k)
    .sort((a, b) => src.readers(b.id) - src.readers(a.id) || (a.id < b.id ? -1 : 1));
  const recent = [...books].sort((a, b) => b.publishedAt - a.publishedAt || (a.id < b.id ? -1 : 1));
  const out: Ranked[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < options.limit && (i < popular.length || i < recent.length); i++) {
    for (const [list, source] of [[popular, 'POPULAR'], [recent, 'RECENT']] as const) {
      const book = list[i];
      if (!book || seen.has(book.id) || out.length >= options.limit) continue;
      seen.add(book.id);
      // Scores fall with the position, so a merged list still reads best first.
      out.push({ bookId: book.id, score: 1 / (out.length + 1), source, basedOn: [] });
    }
  }
  return out;
}

/** The baseline of the offline evaluation: most readers first, nothing personal. */
export function popularityBaseline(src: RecSource, options: { limit: number; exclude: ReadonlySet<string> }): Ranked[] {
  return [...src.books().values()]
    .filter((b) => !options.exclude.has(b.id))
    .map((b) => ({ bookId: b.id, score: src.readers(b.id), source: 'POPULAR' as const, basedOn: [] }))
    .sort(byScore)
    .slice(0, options.limit);
}
