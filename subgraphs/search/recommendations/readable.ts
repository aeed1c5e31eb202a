/**
 * Catalog's readable answers for recommendations, reused for a few seconds. Every list asks
 * catalog (`POST /internal/access`) about 20–30 books; asked on each request that round trip was
 * a third of the search subgraph's time for `me.recommendations` (issue 16). The answer is still
 * catalog's own (its policy, its clock); this only remembers it, per exact reader as catalog saw
 * them (user, partner, roles, territory) and book, for at most READABLE_TTL_MS.
 *
 * How promptly a change is honoured: a book's licence change, publish or unpublish drops every
 * answer about it as soon as this process handles catalog's event (the recommendations consumer,
 * feed.ts); answers are never older than READABLE_TTL_MS in any case — the bound for instances
 * that do not follow the feed and for a licence window that simply runs out.
 */
import { LRUCache } from 'lru-cache';
import type { Caller } from '../../../lib/identity.js';
import type { ReadableCheck } from '../policy.js';

/** Longest an answer is reused: a withdrawn licence may show this long at most. */
export const READABLE_TTL_MS = 5_000;
/** Answers kept (reader × book); a few MB at most. */
const MAX_ANSWERS = 200_000;
/** Books with a change seen within the TTL; more than this at once and every answer is dropped. */
const MAX_CHANGED_BOOKS = 50_000;

/** The reader exactly as catalogClient.readableBooks describes them to catalog. */
const readerKey = (viewer: Caller): string => JSON.stringify([viewer.userId, viewer.partnerId, viewer.roles, viewer.territory]);

export class ReadableCache {
  /** `tick` orders answers against changes: an answer asked for before a change is never kept after it. */
  private tick = 0;
  private readonly answers: LRUCache<string, { readonly readable: boolean; readonly tick: number }>;
  private readonly changed: LRUCache<string, number>;

  /** `clock`: milliseconds, the service's clock (performance.now by default). */
  constructor(clock: { now(): number } = performance) {
    this.answers = new LRUCache({ max: MAX_ANSWERS, ttl: READABLE_TTL_MS, ttlResolution: 0, perf: clock });
    this.changed = new LRUCache({
      max: MAX_CHANGED_BOOKS,
      ttl: READABLE_TTL_MS,
      ttlResolution: 0,
      perf: clock,
      // A change forgotten before its answers expired could let one of them through: drop them all.
      dispose: (_tick, _bookId, reason) => {
        if (reason === 'evict') this.answers.clear();
      },
    });
  }

  /** `ask` (the request's batched catalog check) for what is not remembered; the answers joined. */
  check(viewer: Caller, ask: ReadableCheck): ReadableCheck {
    const who = readerKey(viewer);
    return async (bookIds) => {
      const readable = new Set<string>();
      const missing: string[] = [];
      for (const id of bookIds) {
        const known = this.answers.get(`${who}\n${id}`);
        if (known && known.tick > (this.changed.get(id) ?? -1)) {
          if (known.readable) readable.add(id);
        } else {
          missing.push(id);
        }
      }
      if (missing.length === 0) return readable;
      const asked = ++this.tick;
      const allowed = await ask(missing);
      for (const id of missing) {
        if (allowed.has(id)) readable.add(id);
        this.answers.set(`${who}\n${id}`, { readable: allowed.has(id), tick: asked });
      }
      return readable;
    };
  }

  /** The book's licence or publication changed: no answer about it from before is used again. */
  forgetBook(bookId: string): void {
    this.changed.set(bookId, ++this.tick);
  }

  forgetAll(): void {
    this.answers.clear();
  }
}
