/**
 * Signed calls to catalog's internal routes (contracts: revisions' chapters, readable books).
 * Responses are validated: another service's bug must not become a corrupt index here.
 */
import { z } from 'zod';
import { callInternal, type InternalTarget } from '../../lib/signing.js';
import type { Caller } from '../../lib/identity.js';

const paragraphSchema = z.object({ id: z.string().min(1), index: z.number().int().min(0), startOffset: z.number().int().min(0), endOffset: z.number().int().min(0) });

const revisionSchema = z.object({
  bookId: z.string().min(1),
  revisionId: z.string().min(1),
  language: z.string().default('und'),
  title: z.string().default(''),
  authors: z.array(z.string()).default([]),
  chapters: z.array(z.object({ id: z.string().min(1), index: z.number().int().min(0), title: z.string().default(''), text: z.string(), paragraphs: z.array(paragraphSchema) })),
});

export type RevisionContent = z.infer<typeof revisionSchema>;

const accessSchema = z.object({ books: z.array(z.string()) });

/** `POST /internal/access` takes at most 500 ids per call. */
const READABLE_BATCH = 500;

export interface CatalogClient {
  revisionChapters(revisionId: string, signal?: AbortSignal): Promise<RevisionContent>;
  /** Which of these books the caller may read now: catalog's access check, its own policy. */
  readableBooks(bookIds: readonly string[], caller: Caller): Promise<Set<string>>;
}

/** One revision's chapters from catalog, validated (also called on worker threads: see offThread.ts). */
export async function fetchRevisionChapters(secret: string, baseUrl: string, revisionId: string, signal?: AbortSignal): Promise<RevisionContent> {
  const raw = await callInternal<unknown>({ secret, audience: 'catalog', baseUrl }, 'GET', `/internal/revisions/${encodeURIComponent(revisionId)}/chapters`, undefined, {
    timeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  });
  return revisionSchema.parse(raw);
}

export function httpCatalogClient(secret: string, baseUrl: () => string): CatalogClient {
  const catalog = (): InternalTarget => ({ secret, audience: 'catalog', baseUrl: baseUrl() });
  return {
    revisionChapters: (revisionId, signal) => fetchRevisionChapters(secret, baseUrl(), revisionId, signal),
    async readableBooks(bookIds, caller) {
      const readable = new Set<string>();
      for (let i = 0; i < bookIds.length; i += READABLE_BATCH) {
        // Catalog issues no id longer than 100 characters: such an id is simply not readable.
        const ids = bookIds.slice(i, i + READABLE_BATCH).filter((id) => id.length <= 100);
        if (ids.length === 0) continue;
        const raw = await callInternal<unknown>(catalog(), 'POST', '/internal/access', {
          reader: { userId: caller.userId, partnerId: caller.partnerId, roles: caller.roles, territory: caller.territory },
          bookIds: ids,
        });
        for (const id of accessSchema.parse(raw).books) readable.add(id);
      }
      return readable;
    },
  };
}
