/**
 * What UGC needs from catalog, over catalog's signed internal routes (contracts: "Catalog → others").
 * Chapters are immutable per id (a new revision has new ids), so they are cached per process and
 * every lookup in the same tick is batched into one `POST /internal/chapters`.
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
const readableResponse = z.object({ readable: z.array(z.string()) });

export type CatalogChapter = z.infer<typeof chapter>;
export type RevisionChapters = z.infer<typeof revisionResponse>;

/** The catalog endpoints UGC calls; a fake implements it in tests. */
export interface CatalogApi {
  /** Chapters by id (≤ 200 per call); unknown ids are left out. */
  chapters(ids: readonly string[]): Promise<CatalogChapter[]>;
  /** All chapters of one revision, in reading order. */
  revisionChapters(revisionId: string): Promise<RevisionChapters>;
  /** Which of these books the caller may read now. */
  readable(bookIds: readonly string[], caller: Caller): Promise<Set<string>>;
}

export const MAX_CHAPTERS_PER_CALL = 200;

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

  async readable(bookIds: readonly string[], caller: Caller): Promise<Set<string>> {
    if (bookIds.length === 0) return new Set();
    const body = await callInternal<unknown>(this.catalog(), 'POST', '/internal/books/readable', {
      bookIds,
      partnerId: caller.partnerId,
      userId: caller.userId,
      roles: caller.roles,
      territory: caller.territory,
    });
    return new Set(readableResponse.parse(body).readable);
  }
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
