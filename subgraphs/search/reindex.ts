/**
 * Rebuilds search's derived data from the sources: the paragraph index from catalog's feed (each
 * book's final state: its published revision, or nothing) and the private note indexes from
 * ugc's feed. Leaves both consumers' cursors at the end of what was replayed, so the live
 * service continues from there.
 */
import { callInternal, type InternalTarget } from '../../lib/signing.js';
import type { FolioEvent } from '../../lib/events.js';
import { FEED_MAX_LIMIT } from '../../lib/events.js';
import { CATALOG_CONSUMER, UGC_CONSUMER } from './index.js';
import type { SearchRuntime } from './runtime.js';

export interface ReindexProgress {
  start(phase: string, total: number): void;
  tick(detail: string): void;
  stop(): void;
}

export interface ReindexResult {
  readonly books: number;
  readonly failedBooks: string[];
  readonly noteEvents: number;
  readonly users: number;
}

/** Reads a whole feed (no long polling); returns its events in order. */
export async function readFeed(source: InternalTarget): Promise<FolioEvent[]> {
  const events: FolioEvent[] = [];
  for (let after = 0; ; ) {
    const page = await callInternal<{ events: FolioEvent[] }>(source, 'GET', `/internal/events?after=${after}&limit=${FEED_MAX_LIMIT}&wait=0`);
    if (page.events.length === 0) return events;
    events.push(...page.events);
    after = page.events.at(-1)!.seq;
  }
}

/** Each book's final published revision after replaying catalog's events (unpublished books map to null). */
export function foldBookEvents(events: readonly FolioEvent[]): Map<string, string | null> {
  const books = new Map<string, string | null>();
  for (const { type, payload } of events) {
    const bookId = typeof payload.bookId === 'string' ? payload.bookId : null;
    if (!bookId) continue;
    if ((type === 'BookPublished' || type === 'BookContentReplaced') && typeof payload.revisionId === 'string') books.set(bookId, payload.revisionId);
    else if (type === 'BookUnpublished') books.set(bookId, null);
  }
  return books;
}

export async function rebuildSearchIndex(runtime: SearchRuntime, sources: { catalogUrl: string; ugcUrl: string; secret: string }, progress?: ReindexProgress): Promise<ReindexResult> {
  const { store, vectors, collection, indexer, notes, privateIndexes } = runtime;
  const cursors = store.db.collection<{ _id: string; seq: number; updatedAt: Date }>('event_cursors');

  const bookEvents = await readFeed({ secret: sources.secret, audience: 'catalog', baseUrl: sources.catalogUrl });
  const finalState = foldBookEvents(bookEvents);
  await vectors.delete(collection, {});
  await store.books.updateMany({}, { $set: { state: 'REMOVED', revisionId: null, chunksIndexed: 0, chunksTotal: 0, updatedAt: new Date() } });
  const published = [...finalState].filter((entry): entry is [string, string] => entry[1] !== null);
  const failedBooks: string[] = [];
  progress?.start('books', published.length);
  for (const [bookId, revisionId] of published) {
    try {
      const doc = await indexer.indexRevision(bookId, revisionId);
      progress?.tick(`${doc.title || bookId} (${doc.chunksTotal} chunks)`);
    } catch (error) {
      failedBooks.push(bookId);
      await indexer.markFailed(bookId, error);
      progress?.tick(`${bookId} FAILED`);
    }
  }
  progress?.stop();
  for (const [bookId, revisionId] of finalState) if (revisionId === null) runtime.titles.apply({ _id: bookId, state: 'REMOVED', title: '', authors: [], language: 'und' });
  await vectors.flush();
  await cursors.updateOne({ _id: CATALOG_CONSUMER }, { $set: { seq: bookEvents.at(-1)?.seq ?? 0, updatedAt: new Date() } }, { upsert: true });

  const noteEvents = await readFeed({ secret: sources.secret, audience: 'ugc', baseUrl: sources.ugcUrl });
  const users = new Set(noteEvents.map((e) => e.payload.userId).filter((u): u is string => typeof u === 'string'));
  progress?.start('notes', users.size + noteEvents.length);
  for (const userId of users) {
    await privateIndexes.purge(userId).catch(() => undefined);
    progress?.tick(`purged ${userId}`);
  }
  for (const event of noteEvents) {
    await notes.handleEvent(event).catch((err: unknown) => runtime.logger.warn({ err, seq: event.seq }, 'skipping a note event'));
    progress?.tick(event.type);
  }
  progress?.stop();
  await cursors.updateOne({ _id: UGC_CONSUMER }, { $set: { seq: noteEvents.at(-1)?.seq ?? 0, updatedAt: new Date() } }, { upsert: true });
  return { books: published.length - failedBooks.length, failedBooks, noteEvents: noteEvents.length, users: users.size };
}
