/**
 * The caller's sync feed: the outbox events that change their own progress, shelf, highlights and
 * notes, as the gateway's subscriptions deliver them. The gateway learns an event's `seq` from the
 * signed feed and asks for it again through a query (`readingProgressChange(seq:)` …) made with the
 * subscriber's identity, so every event passes the same policy as any other read, and its selection
 * (`book { title }`) is planned across subgraphs by the gateway like any query.
 */
import type { Caller } from '../../../lib/identity.js';
import { can, subjects } from '../policy.js';
import { pairKey, type ShelfDoc } from '../store.js';
import type { UgcDeps } from './common.js';

export type ChangeOp = 'CREATED' | 'UPDATED' | 'DELETED';

export interface ProgressChangeView {
  readonly seq: string;
  readonly bookId: string;
  readonly chapterId: string | null;
  readonly offset: number;
  readonly percent: number;
  readonly clientTime: Date;
  readonly deviceId: string;
}

export interface AnnotationChangeView {
  readonly seq: string;
  readonly kind: 'HIGHLIGHT' | 'NOTE';
  readonly op: ChangeOp;
  readonly id: string;
  readonly bookId: string;
}

export interface ShelfChangeView {
  readonly seq: string;
  readonly op: ChangeOp;
  readonly bookId: string;
  readonly userId: string;
}

/** Which outbox event types each subscription field delivers (the gateway filters on the same list). */
export const SYNC_EVENT_TYPES = {
  progress: ['ProgressUpdated'],
  annotations: ['HighlightCreated', 'HighlightUpdated', 'HighlightDeleted', 'NoteWritten', 'NoteDeleted'],
  shelf: ['ShelfEntryChanged', 'ShelfEntryRemoved'],
} as const;

const SEQ = /^[1-9][0-9]{0,15}$/;

/** Event `seq` if it is one of `types` and the viewer's own; null otherwise (someone else's is indistinguishable from none). */
async function ownEvent(deps: UgcDeps, viewer: Caller, seqInput: string, types: readonly string[]): Promise<{ seq: string; type: string; payload: Record<string, unknown> } | null> {
  if (!SEQ.test(seqInput)) return null;
  const seq = Number(seqInput);
  const [event] = await deps.outbox.read(seq - 1, 1);
  if (!event || event.seq !== seq || !types.includes(event.type)) return null;
  const userId = event.payload.userId;
  if (typeof userId !== 'string' || !can(viewer, 'readActivity', subjects.user(userId))) return null;
  return { seq: String(seq), type: event.type, payload: event.payload };
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export async function progressChange(deps: UgcDeps, viewer: Caller, seq: string): Promise<ProgressChangeView | null> {
  const event = await ownEvent(deps, viewer, seq, SYNC_EVENT_TYPES.progress);
  if (!event) return null;
  const p = event.payload;
  return {
    seq: event.seq,
    bookId: str(p.bookId) ?? '',
    chapterId: str(p.chapterId),
    offset: Number(p.offset),
    percent: Number(p.percent),
    clientTime: new Date(String(p.clientTime)),
    deviceId: str(p.deviceId) ?? '',
  };
}

export async function annotationChange(deps: UgcDeps, viewer: Caller, seq: string, bookId: string | null | undefined): Promise<AnnotationChangeView | null> {
  const event = await ownEvent(deps, viewer, seq, SYNC_EVENT_TYPES.annotations);
  if (!event) return null;
  const p = event.payload;
  const note = event.type.startsWith('Note');
  const view: AnnotationChangeView = {
    seq: event.seq,
    kind: note ? 'NOTE' : 'HIGHLIGHT',
    op: event.type.endsWith('Deleted') ? 'DELETED' : event.type === 'HighlightCreated' ? 'CREATED' : 'UPDATED',
    id: str(note ? p.noteId : p.highlightId) ?? '',
    bookId: str(p.bookId) ?? '',
  };
  return bookId && view.bookId !== bookId ? null : view;
}

export async function shelfChange(deps: UgcDeps, viewer: Caller, seq: string): Promise<ShelfChangeView | null> {
  const event = await ownEvent(deps, viewer, seq, SYNC_EVENT_TYPES.shelf);
  if (!event) return null;
  const op = event.type === 'ShelfEntryRemoved' ? 'DELETED' : event.payload.op === 'CREATED' ? 'CREATED' : 'UPDATED';
  return { seq: event.seq, op, bookId: str(event.payload.bookId) ?? '', userId: str(event.payload.userId) ?? '' };
}

/** The shelf entry a change is about, as it is now; null once removed (only ever the viewer's own: ownEvent checked). */
export async function shelfEntryOf(deps: UgcDeps, viewer: Caller, change: ShelfChangeView): Promise<ShelfDoc | null> {
  if (!can(viewer, 'readActivity', subjects.user(change.userId))) return null;
  return deps.store.shelf.findOne({ _id: pairKey(change.userId, change.bookId) });
}
