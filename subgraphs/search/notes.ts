/**
 * Feeds ugc's note and highlight events into each user's private index. Every handler is an
 * upsert or a delete by a deterministic id, so a redelivered event changes nothing.
 */
import { z } from 'zod';
import type { FolioEvent } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import type { PrivateIndexes } from './ports.js';

/** Longest note text indexed; ugc bounds notes itself, this keeps a bad event from bloating an index. */
const MAX_TEXT = 20_000;

const id = z.string().min(1).max(200);
const text = z.string().max(1_000_000).transform((s) => s.slice(0, MAX_TEXT));
const noteWritten = z.object({
  noteId: id,
  userId: id,
  bookId: id,
  chapterId: id,
  paragraphId: id.nullable().optional(),
  text,
  quote: text.nullable().optional(),
  updatedAt: z.string().max(50).optional(),
});
const highlightCreated = z.object({ highlightId: id, userId: id, bookId: id, chapterId: id, paragraphId: id.nullable().optional(), quote: text, createdAt: z.string().max(50).optional() });
const noteDeleted = z.object({ noteId: id, userId: id });
const highlightDeleted = z.object({ highlightId: id, userId: id });

export type PrivateKind = 'NOTE' | 'HIGHLIGHT';

/** What a private index item carries besides its vectors. */
export interface PrivatePayload {
  kind: PrivateKind;
  /** The note or highlight id. */
  sourceId: string;
  bookId: string;
  chapterId: string;
  paragraphId: string | null;
  text: string | null;
  quote: string | null;
}

export const privateItemId = (kind: PrivateKind, sourceId: string): string => `${kind === 'NOTE' ? 'n' : 'h'}:${sourceId}`;

export class NotesIndexer {
  constructor(
    private readonly indexes: PrivateIndexes,
    private readonly logger: Logger,
  ) {}

  async handleEvent(event: FolioEvent): Promise<void> {
    switch (event.type) {
      case 'NoteWritten': {
        const parsed = noteWritten.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        const n = parsed.data;
        const payload: PrivatePayload = { kind: 'NOTE', sourceId: n.noteId, bookId: n.bookId, chapterId: n.chapterId, paragraphId: n.paragraphId ?? null, text: n.text, quote: n.quote ?? null };
        await this.indexes.upsert(n.userId, [{ id: privateItemId('NOTE', n.noteId), text: [n.text, n.quote ?? ''].join('\n').trim(), payload: { ...payload } }]);
        return;
      }
      case 'HighlightCreated': {
        const parsed = highlightCreated.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        const h = parsed.data;
        const payload: PrivatePayload = { kind: 'HIGHLIGHT', sourceId: h.highlightId, bookId: h.bookId, chapterId: h.chapterId, paragraphId: h.paragraphId ?? null, text: null, quote: h.quote };
        await this.indexes.upsert(h.userId, [{ id: privateItemId('HIGHLIGHT', h.highlightId), text: h.quote, payload: { ...payload } }]);
        return;
      }
      case 'NoteDeleted': {
        const parsed = noteDeleted.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        await this.indexes.remove(parsed.data.userId, [privateItemId('NOTE', parsed.data.noteId)]);
        return;
      }
      case 'HighlightDeleted': {
        const parsed = highlightDeleted.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        await this.indexes.remove(parsed.data.userId, [privateItemId('HIGHLIGHT', parsed.data.highlightId)]);
        return;
      }
      default:
        return;
    }
  }

  private skip(event: FolioEvent): void {
    this.logger.warn({ seq: event.seq, type: event.type }, 'ignoring a malformed ugc event');
  }
}
