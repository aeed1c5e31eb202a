/**
 * Cache tags ("surrogate keys", as CDNs call them): every subgraph response names the entities it
 * holds in `x-folio-cache-tags`, and the gateway tags its cached responses with the union over all
 * fetches of a request, the way it folds their cache-control hints. Withdrawing a book purges every
 * cached response tagged `book:<id>` at once, whether it quoted the book's text (catalog chapters,
 * ugc highlights and notes) or only listed it.
 *
 * The vocabulary lives here because both sides speak it: subgraphs tag (ResponseTags) and ask for
 * purges after a mutation (`x-folio-cache-purge`); the gateway maps catalog's events to purges
 * (purgeTagsForEvent). Tags are opaque tokens: `book:<id>`, and `books` for every book list (a
 * newly readable book changes lists that do not hold its tag yet).
 */

export const CACHE_TAGS_HEADER = 'x-folio-cache-tags';
export const CACHE_PURGE_HEADER = 'x-folio-cache-purge';

/** Every response that lists books (whose membership a publish or licence change can alter). */
export const BOOK_LISTS_TAG = 'books';

export const bookTag = (bookId: string): string => `book:${bookId}`;

/** What a change to one book makes stale: everything holding it, and every list it may join or leave. */
export const bookChangeTags = (bookId: string): string[] => [bookTag(bookId), BOOK_LISTS_TAG];

/** Catalog events (subgraphs/catalog's outbox) after which cached answers about the book are wrong. */
const BOOK_EVENTS = new Set(['BookPublished', 'BookUnpublished', 'BookContentReplaced', 'BookLicenseChanged']);

/** The tags a catalog event purges; none for events that change nothing a client may have cached. */
export function purgeTagsForEvent(event: { readonly type: string; readonly payload: Readonly<Record<string, unknown>> }): string[] {
  const bookId = event.payload.bookId;
  if (!BOOK_EVENTS.has(event.type) || typeof bookId !== 'string' || !TAG.test(bookTag(bookId))) return [];
  return bookChangeTags(bookId);
}

/** A tag is one header token: no separators, bounded. */
const TAG = /^[A-Za-z0-9:._-]{1,120}$/;

/**
 * Tags beyond this many bytes make the response uncacheable instead of growing the header: undici
 * and Node refuse response heads over 16 KiB, and a response holding hundreds of books is a poor
 * cache entry anyway. 8 KiB holds a 100-book list (~30 bytes a book) several times over.
 */
export const MAX_TAG_HEADER_BYTES = 8 * 1024;

/** Splits a tags header; undefined when it holds anything that is not a tag (then nothing is trusted). */
export function parseTags(header: string | readonly string[] | undefined | null): string[] | undefined {
  if (header === undefined || header === null) return [];
  const text = typeof header === 'string' ? header : header.join(' ');
  const tags = text.split(/[\s,]+/).filter((t) => t.length > 0);
  return tags.every((t) => TAG.test(t)) ? tags : undefined;
}

/**
 * One subgraph response's tags, collected while resolvers run (one per request, in the context).
 * Anything that reads a book for the response adds its tag; a mutation that changes a book asks for
 * a purge. `notAfter` caps the response's max-age (a licence that ends in 40 s: cache 40 s at most).
 */
export class ResponseTags {
  private readonly tags = new Set<string>();
  private readonly purges = new Set<string>();
  private expires: number | undefined;
  private bytes = 0;
  private broken = false;

  add(...tags: string[]): void {
    for (const tag of tags) {
      if (this.tags.has(tag)) continue;
      if (!TAG.test(tag)) {
        this.broken = true;
        continue;
      }
      this.tags.add(tag);
      this.bytes += tag.length + 1;
    }
  }

  purge(...tags: string[]): void {
    for (const tag of tags) if (TAG.test(tag)) this.purges.add(tag);
  }

  notAfter(when: Date | null | undefined): void {
    if (!when) return;
    const ms = when.getTime();
    if (this.expires === undefined || ms < this.expires) this.expires = ms;
  }

  /** Writes the tag and purge headers, and caps or removes cacheability (cache-control) where it must. */
  applyTo(headers: Record<string, string>, now = Date.now()): void {
    if (this.purges.size > 0) headers[CACHE_PURGE_HEADER] = [...this.purges].join(' ');
    const cacheControl = headers['cache-control'];
    if (cacheControl === undefined || !/max-age=\d+/i.test(cacheControl)) {
      if (this.tags.size > 0 && !this.broken && this.bytes <= MAX_TAG_HEADER_BYTES) headers[CACHE_TAGS_HEADER] = [...this.tags].join(' ');
      return;
    }
    // A cacheable response whose tags cannot be told in full must not be cached at all.
    if (this.broken || this.bytes > MAX_TAG_HEADER_BYTES) {
      headers['cache-control'] = 'no-store';
      return;
    }
    if (this.expires !== undefined) {
      const left = Math.floor((this.expires - now) / 1000);
      if (left <= 0) {
        headers['cache-control'] = 'no-store';
        return;
      }
      headers['cache-control'] = cacheControl.replace(/max-age=(\d+)/i, (_, age: string) => `max-age=${Math.min(Number(age), left)}`);
    }
    if (this.tags.size > 0) headers[CACHE_TAGS_HEADER] = [...this.tags].join(' ');
  }
}
