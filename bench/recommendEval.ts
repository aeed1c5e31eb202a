/**
 * The offline evaluation of recommendations (issue 16), pure and in memory so it runs in seconds
 * and a small version runs in `npm test`: a structured synthetic population reads the demo
 * library plus a synthetic one, each reader's last finished book is held out, and the held-out
 * book is looked for in the top 10 of content-only, co-reading-only and blended recommendations
 * and of a popularity baseline, all through subgraphs/search/recommendations/rank.ts with the
 * same author cap as the service.
 */
import { generateSyntheticBook } from '../subgraphs/catalog/demo/synthetic.js';
import { demoBooks } from '../subgraphs/catalog/demo/index.js';
import { LocalHashEmbedder } from '../subgraphs/search/core/embedder.js';
import { bookVector } from '../subgraphs/search/recommendations/feed.js';
import { forReader, popularityBaseline, type CandidateBook, type Neighbour, type Ranked, type RecSource } from '../subgraphs/search/recommendations/rank.js';
import { diversify } from '../subgraphs/search/recommendations/scoring.js';
import { seedsOf } from '../subgraphs/search/recommendations/service.js';
import type { RecReaderBookDoc } from '../subgraphs/search/recommendations/store.js';

/** Genres: each has its own words (what a reader who likes it keeps meeting) and a few authors. */
export const GENRES: Record<string, readonly string[]> = {
  sea: ['tide', 'harbour', 'sail', 'gull', 'anchor', 'reef', 'lighthouse', 'current', 'mast', 'keel', 'foghorn', 'trawler'],
  mountain: ['ridge', 'glacier', 'summit', 'scree', 'rope', 'crampon', 'cairn', 'avalanche', 'col', 'serac', 'bivouac', 'ice axe'],
  garden: ['seedling', 'compost', 'rose', 'trellis', 'hive', 'bulb', 'prune', 'hedge', 'blossom', 'greenhouse', 'honeybee', 'pollen'],
  city: ['tram', 'alley', 'neon', 'subway', 'rooftop', 'traffic', 'arcade', 'tower', 'pavement', 'taxi', 'skyline', 'precinct'],
  space: ['telescope', 'nebula', 'orbit', 'comet', 'planet', 'eclipse', 'galaxy', 'meteor', 'observatory', 'star chart', 'parallax', 'moon'],
  food: ['kettle', 'tea leaf', 'oven', 'bread', 'spice', 'broth', 'pastry', 'harvest', 'ferment', 'teapot', 'kitchen', 'recipe'],
  craft: ['loom', 'chisel', 'stone wall', 'silk', 'thread', 'kiln', 'anvil', 'workbench', 'mortar', 'spindle', 'dye', 'lathe'],
  mystery: ['detective', 'alibi', 'clue', 'inspector', 'suspect', 'motive', 'fingerprint', 'inquest', 'witness', 'cipher', 'locked room', 'poison'],
};
const GENRE_NAMES = Object.keys(GENRES);
/** Which genre each demo book belongs to (the demo library is part of the population's catalogue). */
const DEMO_GENRES: Record<string, string> = {
  'keeper-of-gannet-rock': 'sea',
  'a-year-with-the-bees': 'garden',
  'lanterns-in-the-dark': 'space',
  'stone-on-stone': 'craft',
  'cha-zhi-lv': 'food',
  'shan-zhong-can-shi': 'craft',
};
const demoGenre = (slug: string): string => DEMO_GENRES[slug] ?? 'craft';

type Random = () => number;
function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EvalOptions {
  readonly booksPerGenre: number;
  readonly readers: number;
  readonly seed: number;
  /** Co-reading minimum readers (FOLIO_POPULAR_HIGHLIGHT_MIN_READERS). */
  readonly k: number;
  /** Share of shelf entries marked secret (never counted for others). */
  readonly secretShare: number;
}

interface EvalBook extends CandidateBook {
  readonly genre: string;
}

/** The library: demo books plus `booksPerGenre` synthetic books per genre, with book-level vectors. */
export async function buildLibrary(options: EvalOptions): Promise<EvalBook[]> {
  const embedder = new LocalHashEmbedder();
  const random = seeded(options.seed);
  const books: EvalBook[] = [];
  const chunks = (paragraphs: readonly string[]): string[] => {
    const out: string[] = [];
    let current = '';
    for (const p of paragraphs) {
      if (current.length + p.length > 800 && current) {
        out.push(current);
        current = '';
      }
      current += (current ? '\n' : '') + p;
    }
    if (current) out.push(current);
    return out;
  };
  for (const demo of demoBooks) {
    const texts = chunks(demo.chapters.flatMap((c) => c.paragraphs));
    const vector = await bookVector(embedder, texts);
    books.push({ id: `demo:${demo.slug}`, title: demo.title, authors: demo.authors, language: demo.language, publishedAt: 0, vector: vector && Float32Array.from(vector), genre: demoGenre(demo.slug) });
  }
  for (const genre of GENRE_NAMES) {
    const words = GENRES[genre]!;
    for (let i = 0; i < options.booksPerGenre; i++) {
      // Prose of the generic generator (shared by every genre) with the genre's words woven in.
      const base = generateSyntheticBook({ chapters: 2, paragraphsPerChapter: 6, seed: options.seed * 1000 + books.length, language: 'en' });
      const paragraphs = base.chapters.flatMap((c) => c.paragraphs).map((p) => {
        const extra = Array.from({ length: 8 }, () => words[Math.floor(random() * words.length)]).join(', ');
        return `${p} There was the ${extra}.`;
      });
      const vector = await bookVector(embedder, chunks(paragraphs));
      books.push({
        id: `${genre}:${i}`,
        title: `${genre} ${i}`,
        authors: [`${genre} author ${i % 6}`],
        language: 'en',
        publishedAt: i,
        vector: vector && Float32Array.from(vector),
        genre,
      });
    }
  }
  return books;
}

interface Reader {
  readonly id: string;
  /** Books in reading order; the last one is the held-out "last finished". */
  readonly books: ReadonlyArray<{ bookId: string; secret: boolean }>;
}

/**
 * Readers with genre preferences: a main genre (70% of picks), a second one (20%), anything
 * (10%); within a genre, books by a Zipf-like popularity (rank r picked ∝ 1/(r+1)).
 */
export function buildPopulation(books: readonly EvalBook[], options: EvalOptions): Reader[] {
  const random = seeded(options.seed + 1);
  const byGenre = new Map<string, EvalBook[]>();
  for (const b of books) byGenre.set(b.genre, [...(byGenre.get(b.genre) ?? []), b]);
  const zipf = (list: readonly EvalBook[]): EvalBook => {
    const weights = list.map((_, r) => 1 / (r + 1));
    let x = random() * weights.reduce((s, w) => s + w, 0);
    for (let i = 0; i < list.length; i++) if ((x -= weights[i]!) <= 0) return list[i]!;
    return list.at(-1)!;
  };
  const readers: Reader[] = [];
  for (let r = 0; r < options.readers; r++) {
    const main = GENRE_NAMES[Math.floor(random() * GENRE_NAMES.length)]!;
    const second = GENRE_NAMES[Math.floor(random() * GENRE_NAMES.length)]!;
    const count = 4 + Math.floor(-Math.log(1 - random()) * 10);
    const picked = new Map<string, boolean>();
    for (let attempts = 0; picked.size < Math.min(count, 40) && attempts < 400; attempts++) {
      const x = random();
      const genre = x < 0.7 ? main : x < 0.9 ? second : GENRE_NAMES[Math.floor(random() * GENRE_NAMES.length)]!;
      const book = zipf(byGenre.get(genre)!);
      if (!picked.has(book.id)) picked.set(book.id, random() < options.secretShare);
    }
    readers.push({ id: `u${r}`, books: [...picked].map(([bookId, secret]) => ({ bookId, secret })) });
  }
  return readers;
}

/** An in-memory RecSource from training shelves: co-reading over non-secret entries only, pairs below k dropped. */
export function memorySource(books: readonly EvalBook[], training: ReadonlyArray<ReadonlyArray<{ bookId: string; secret: boolean }>>, k: number): RecSource {
  const map = new Map(books.map((b) => [b.id, b as CandidateBook]));
  const readers = new Map<string, number>();
  const pairs = new Map<string, Map<string, number>>();
  for (const shelf of training) {
    const pub = shelf.filter((e) => !e.secret).map((e) => e.bookId);
    for (const a of pub) {
      readers.set(a, (readers.get(a) ?? 0) + 1);
      const row = pairs.get(a) ?? new Map<string, number>();
      for (const b of pub) if (b !== a) row.set(b, (row.get(b) ?? 0) + 1);
      pairs.set(a, row);
    }
  }
  const neighbours = new Map<string, Neighbour[]>();
  for (const [a, row] of pairs) {
    neighbours.set(
      a,
      [...row].filter(([, n]) => n >= k).sort((x, y) => y[1] - x[1]).slice(0, 100).map(([bookId, together]) => ({ bookId, together })),
    );
  }
  return { k, dimension: 384, books: () => map, readers: (id) => readers.get(id) ?? 0, neighbours: async (id) => neighbours.get(id) ?? [] };
}

export interface MethodResult {
  readonly method: string;
  readonly hitRateAt10: number;
  /** Distinct books recommended to anyone / books in the catalogue. */
  readonly coverage: number;
  readonly evaluated: number;
}

export interface EvalReport {
  readonly books: number;
  readonly readers: number;
  readonly meanBooksPerReader: number;
  readonly k: number;
  readonly secretShare: number;
  readonly methods: MethodResult[];
  readonly ms: number;
}

export async function runOfflineEval(options: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const books = await buildLibrary(options);
  const population = buildPopulation(books, options);
  const evaluated = population.filter((r) => r.books.length >= 3);
  // Training data: every reader's shelf without their held-out last book.
  const src = memorySource(books, population.map((r) => (r.books.length >= 3 ? r.books.slice(0, -1) : r.books)), options.k);
  const now = new Date('2026-06-01T00:00:00Z');
  const authorsOf = (r: Ranked): readonly string[] => src.books().get(r.bookId)?.authors ?? [];
  const methods: Record<string, (reader: Reader, exclude: Set<string>) => Promise<Ranked[]>> = {
    popularity: async (_reader, exclude) => popularityBaseline(src, { limit: 60, exclude }),
    content: (reader, exclude) => forReader(src, seeds(reader), { mode: 'content', limit: 60, exclude }),
    coReading: (reader, exclude) => forReader(src, seeds(reader), { mode: 'coReading', limit: 60, exclude }),
    blended: (reader, exclude) => forReader(src, seeds(reader), { mode: 'blend', limit: 60, exclude }),
  };
  // Seeds as the service weighs them: every training book on the shelf, the later ones more recent.
  function seeds(reader: Reader) {
    const train = reader.books.slice(0, -1);
    const docs = train.map((e, i): RecReaderBookDoc => ({
      _id: `${reader.id}|${e.bookId}`,
      userId: reader.id,
      bookId: e.bookId,
      onShelf: true,
      secret: e.secret,
      finished: true,
      finishedAt: new Date(now.getTime() - (train.length - i) * 7 * 86_400_000),
      addedAt: null,
      days: {},
      olderSeconds: 0,
      highlights: 0,
      updatedAt: now,
    }));
    return seedsOf(docs, now);
  }
  const results: MethodResult[] = [];
  for (const [method, recommend] of Object.entries(methods)) {
    let hits = 0;
    const shown = new Set<string>();
    for (const reader of evaluated) {
      const heldOut = reader.books.at(-1)!.bookId;
      const exclude = new Set(reader.books.slice(0, -1).map((e) => e.bookId));
      const top = diversify(await recommend(reader, exclude), authorsOf).slice(0, 10);
      for (const r of top) shown.add(r.bookId);
      if (top.some((r) => r.bookId === heldOut)) hits++;
    }
    results.push({ method, hitRateAt10: round3(hits / evaluated.length), coverage: round3(shown.size / books.length), evaluated: evaluated.length });
  }
  return {
    books: books.length,
    readers: population.length,
    meanBooksPerReader: round3(population.reduce((s, r) => s + r.books.length, 0) / population.length),
    k: options.k,
    secretShare: options.secretShare,
    methods: results,
    ms: Math.round(performance.now() - started),
  };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
