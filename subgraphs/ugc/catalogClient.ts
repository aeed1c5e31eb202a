/**
 * What UGC needs from catalog, over catalog's signed internal routes: whether the caller may read
 * some content (`POST /internal/access`, never cached: licences and publishing change), and chapter
 * texts for anchoring. Chapters are immutable per id (a new revision has new ids), so texts are
 * cached per process and every lookup in the same tick is batched into one `POST /internal/chapters`;
 * a text is fetched only after the access check said yes.
 */
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Caller } from '../../lib/identity.js';
import { callInternal, type InternalTarget } from '../../lib/signing.js';

const paragraph = z.object({ id: z.string(), index: z.number().int(), startOffset: z.number().int(), endOffset: z.number().int() });
const chapter = z.object({
  id: z.string(),
  bookId: z.string(),
  revisionId: z.string(),
  index: z.number().int(),
  title: z.string().nullable().optional(),
  text: z.string(),
  paragraphs: z.array(paragraph),
});
const chaptersResponse = z.object({ chapters: z.array(chapter) });
const revisionResponse = z.object({
  bookId: z.string(),
  revisionId: z.string(),
  chapters: z.array(chapter.omit({ bookId: true, revisionId: true })),
});
const readableChapter = z.object({ id: z.string(), bookId: z.string(), revisionId: z.string(), current: z.boolean(), length: z.number().int() });
const accessResponse = z.object({
  books: z.array(z.string()),
  chapters: z.array(readableChapter),
  paragraphs: z.array(readableChapter.extend({ chapterId: z.string() })),
});

export type CatalogChapter = z.infer<typeof chapter>;
export type RevisionChapters = z.infer<typeof revisionResponse>;
/** A chapter the caller may read, as catalog's access check answers it. */
export type ReadableChapter = z.infer<typeof readableChapter>;
export type ReadableParagraph = ReadableChapter & { readonly chapterId: string };

export interface AccessQuery {
  readonly bookIds?: readonly string[];
  readonly chapterIds?: readonly string[];
  readonly paragraphIds?: readonly string[];
}

/** Only what the caller may read appears; an unreadable id and an unknown one are alike. */
export interface AccessAnswer {
  readonly books: ReadonlySet<string>;
  readonly chapters: ReadonlyMap<string, ReadableChapter>;
  readonly paragraphs: ReadonlyMap<string, ReadableParagraph>;
}

/** The catalog endpoints UGC calls; a fake implements it in tests. */
export interface CatalogApi {
  /** Chapters by id (≤ 200 per call); unknown ids are left out. */
  chapters(ids: readonly string[]): Promise<CatalogChapter[]>;
  /** All chapters of one revision, in reading order. */
  revisionChapters(revisionId: string): Promise<RevisionChapters>;
  /**
   * Which of these books, chapters and paragraphs the caller may read now: catalog's own policy,
   * asked in one call (`POST /internal/access`, ≤ MAX_ACCESS_IDS ids in all).
   */
  access(caller: Caller, query: AccessQuery): Promise<AccessAnswer>;
}

export const MAX_CHAPTERS_PER_CALL = 200;
export const MAX_ACCESS_IDS = 500;
const MAX_CATALOG_ID_LENGTH = 100;

export class HttpCatalogApi implements CatalogApi {
  constructor(
    private readonly baseUrl: () => string,
    private readonly secret: string,
  ) {}

  private catalog(): InternalTarget {
    return { secret: this.secret, audience: 'catalog', baseUrl: this.baseUrl() };
  }

  async chapters(ids: readonly string[]): Promise<CatalogChapter[]> {
    if (ids.length === 0) return [];
    const body = await callInternal<unknown>(this.catalog(), 'POST', '/internal/chapters', { ids });
    return chaptersResponse.parse(body).chapters;
  }

  async revisionChapters(revisionId: string): Promise<RevisionChapters> {
    const body = await callInternal<unknown>(this.catalog(), 'GET', `/internal/revisions/${encodeURIComponent(revisionId)}/chapters`, undefined, {
      timeoutMs: 60_000,
    });
    return revisionResponse.parse(body);
  }

  async access(caller: Caller, query: AccessQuery): Promise<AccessAnswer> {
    // Catalog issues no id longer than 100 characters: such an id is simply not readable.
    const known = (list: readonly string[] | undefined): string[] => [...new Set(list ?? [])].filter((id) => id.length <= MAX_CATALOG_ID_LENGTH);
    const bookIds = known(query.bookIds);
    const chapterIds = known(query.chapterIds);
    const paragraphIds = known(query.paragraphIds);
    if (bookIds.length + chapterIds.length + paragraphIds.length === 0) return { books: new Set(), chapters: new Map(), paragraphs: new Map() };
    const answers = await Promise.all(
      chunks([...bookIds.map((id) => ['b', id] as const), ...chapterIds.map((id) => ['c', id] as const), ...paragraphIds.map((id) => ['p', id] as const)], MAX_ACCESS_IDS).map(
        async (part) => {
          const pick = (kind: 'b' | 'c' | 'p') => part.filter(([k]) => k === kind).map(([, id]) => id);
          const body = await callInternal<unknown>(this.catalog(), 'POST', '/internal/access', {
            reader: { userId: caller.userId, partnerId: caller.partnerId, roles: caller.roles, territory: caller.territory },
            bookIds: pick('b'),
            chapterIds: pick('c'),
            paragraphIds: pick('p'),
          });
          return accessResponse.parse(body);
        },
      ),
    );
    return {
      books: new Set(answers.flatMap((a) => a.books)),
      chapters: new Map(answers.flatMap((a) => a.chapters.map((c) => [c.id, c] as const))),
      paragraphs: new Map(answers.flatMap((a) => a.paragraphs.map((p) => [p.id, p] as const))),
    };
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A process-wide loader: lookups in the same tick become one call, and chapters stay cached by id
 * (safe: a chapter id's text never changes). Bounded by entry count since entries are promises.
 * @default 500 chapters
 */
export function chapterLoader(api: CatalogApi, maxCached = 500): DataLoader<string, CatalogChapter | null> {
  const cache = new LRUCache<string, Promise<CatalogChapter | null>>({ max: maxCached });
  return new DataLoader(
    async (ids) => {
      const found = new Map((await api.chapters(ids)).map((c) => [c.id, c]));
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: MAX_CHAPTERS_PER_CALL, cacheMap: cache },
  );
}
