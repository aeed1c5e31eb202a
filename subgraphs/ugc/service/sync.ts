/**
 * The caller's sync feed: the outbox events that change their own progress, shelf, highlights and
 * notes, as the gateway's subscriptions deliver them. The gateway learns an event's `seq` from the
 * signed feed and asks for it again through a query (`readingProgressChange(seq:)` …) made with the
 * subscriber's identity, so every event passes the same policy as any other read, and its selection
 * (`book { title }`) is planned across subgraphs by the gateway like any query.
 */
import { badInput, FolioError } from '../../../lib/errors.js';
import type { Caller } from '../../../lib/identity.js';
import { pageSize, type Connection } from '../../../lib/pagination.js';
import type { FolioDb } from '../../../lib/storage/index.js';
import type { Filter } from '../../../lib/storage/types.js';
import { can, subjects } from '../policy.js';
import { collectionsOf, pairKey, type ShelfDoc, type SyncEventDoc } from '../store.js';
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

/** CREATED, UPDATED or DELETED, from an event's type (and `op`, for events that carry one). */
function opOf(type: string, payload: Record<string, unknown>): ChangeOp {
  if (type.endsWith('Deleted') || type.endsWith('Removed')) return 'DELETED';
  if (type.endsWith('Created') || payload.op === 'CREATED') return 'CREATED';
  return 'UPDATED';
}

/** Event `seq` if it is one of `types` and the viewer's own; null otherwise (someone else's is indistinguishable from none). */
async function ownEvent(deps: UgcDeps, viewer: Caller, seqInput: string, types: readonly string[]): Promise<{ seq: string; type: string; payload: Record<string, unknown> } | null> {
  const event = await deps.outbox.at(seqInput, types);
  const userId = event?.payload.userId;
  if (!event || typeof userId !== 'string' || !can(viewer, 'readChanges', subjects.user(userId))) return null;
  return { seq: String(event.seq), type: event.type, payload: event.payload };
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
    op: opOf(event.type, event.payload),
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

// ---- catch-up: me.changes ---------------------------------------------------------------------

export type ChangeKind = 'SHELF' | 'PROGRESS' | 'HIGHLIGHT' | 'NOTE' | 'REVIEW';

/** Which outbox event types are changes of which kind (everything `me.changes` lists). */
export const CHANGE_EVENT_TYPES: Readonly<Record<ChangeKind, readonly string[]>> = {
  SHELF: SYNC_EVENT_TYPES.shelf,
  PROGRESS: SYNC_EVENT_TYPES.progress,
  HIGHLIGHT: ['HighlightCreated', 'HighlightUpdated', 'HighlightDeleted'],
  NOTE: ['NoteWritten', 'NoteDeleted'],
  REVIEW: ['ReviewWritten', 'ReviewDeleted'],
};
const KIND_OF_TYPE = new Map(Object.entries(CHANGE_EVENT_TYPES).flatMap(([kind, types]) => types.map((t) => [t, kind as ChangeKind] as const)));

/** One change as `me.changes` lists it; the current entity is loaded per field (loaders). */
export interface ChangeView {
  readonly seq: string;
  readonly kind: ChangeKind;
  readonly op: ChangeOp;
  /** The entity's id (PROGRESS: `<userId>|<bookId>`, the progress document's id). */
  readonly id: string;
  readonly bookId: string;
  readonly userId: string;
  readonly at: Date;
  /** PROGRESS only: the device that reported it. */
  readonly deviceId: string;
}

export const MAX_CHANGES_PAGE = 500;
export const DEFAULT_CHANGES_PAGE = 100;
/** A cursor is the seq of the last change applied ("0": from the start); the same number subscription events carry. */
const CURSOR = /^(0|[1-9][0-9]{0,15})$/;

export const cursorExpired = (): FolioError =>
  new FolioError('CURSOR_EXPIRED', 'Changes after this cursor are no longer kept: resync in full (read your shelf, highlights, notes and reviews), then continue from a fresh cursor.');

/** The seq an `after` cursor names; BAD_USER_INPUT unless it is one. */
export function parseChangeCursor(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  if (typeof after !== 'string' || !CURSOR.test(after) || !Number.isSafeInteger(Number(after))) throw badInput('The cursor is not valid.', 'after');
  return Number(after);
}

function changeOf(doc: SyncEventDoc): ChangeView | null {
  const kind = KIND_OF_TYPE.get(doc.type);
  const p = doc.payload;
  const userId = str(p.userId);
  const bookId = str(p.bookId);
  if (!kind || !userId || !bookId) return null;
  const id = kind === 'HIGHLIGHT' ? str(p.highlightId) : kind === 'NOTE' ? str(p.noteId) : pairKey(userId, bookId);
  if (!id) return null;
  const op = kind === 'PROGRESS' ? 'UPDATED' : opOf(doc.type, p);
  return { seq: String(doc._id), kind, op, id, bookId, userId, at: doc.createdAt, deviceId: str(p.deviceId) ?? '' };
}

/**
 * Throws CURSOR_EXPIRED when `after` cannot be served completely for `userId`: changes after it were
 * pruned (the retention watermark, see SyncPrunedDoc in store.ts), or it lies past the newest seq
 * (the history it came from was reset).
 */
export async function checkCursorKept(deps: UgcDeps, userId: string, after: number): Promise<void> {
  const [pruned, head] = await Promise.all([deps.store.syncPruned.findOne({ _id: userId }), deps.outbox.head()]);
  if ((pruned && after < pruned.seq) || after > head) throw cursorExpired();
}

/**
 * `ownerId`'s changes after the cursor, oldest first (null for anyone but the owner). One index range
 * per page: (payload.userId, _id) from the cursor, at most `first` + 1 events.
 */
export async function listChanges(
  deps: UgcDeps,
  viewer: Caller,
  ownerId: string,
  args: { after?: string | null; first?: number | null; kinds?: readonly ChangeKind[] | null },
): Promise<Connection<ChangeView> | null> {
  if (!can(viewer, 'readChanges', subjects.user(ownerId))) return null;
  const size = pageSize(args.first ?? DEFAULT_CHANGES_PAGE, MAX_CHANGES_PAGE);
  const after = parseChangeCursor(args.after);
  await checkCursorKept(deps, ownerId, after);
  const types = args.kinds?.length ? [...new Set(args.kinds.flatMap((k) => CHANGE_EVENT_TYPES[k]))] : [...KIND_OF_TYPE.keys()];
  const filter: Filter<SyncEventDoc> = { 'payload.userId': ownerId, _id: { $gt: after }, type: { $in: types } };
  const docs = await deps.store.outbox.find(filter).sort({ _id: 1 }).limit(size + 1).toArray();
  const page = docs.slice(0, size);
  const edges = page.flatMap((d) => {
    const node = changeOf(d);
    return node ? [{ cursor: node.seq, node }] : [];
  });
  // With nothing new the cursor stays where it was: endCursor is always the one to keep.
  const endCursor = page.length > 0 ? String(page[page.length - 1]!._id) : String(after);
  return { edges, pageInfo: { hasNextPage: docs.length > size, endCursor } };
}

/**
 * The retention side of the contract (SyncPrunedDoc in store.ts): ugc's OutboxRetention calls it
 * with each slice's events before deleting them (`beforePrune`), so each user's watermark covers
 * their deleted events before they are gone (a reader may be told CURSOR_EXPIRED a moment early, never late).
 */
export async function recordPrunedSync(tx: FolioDb, deleted: readonly { seq: number; payload: Record<string, unknown> }[]): Promise<void> {
  const highest = new Map<string, number>();
  for (const event of deleted) {
    const userId = str(event.payload.userId);
    if (userId) highest.set(userId, Math.max(highest.get(userId) ?? 0, event.seq));
  }
  const { syncPruned } = collectionsOf(tx);
  for (const [userId, seq] of highest) await syncPruned.updateOne({ _id: userId }, { $max: { seq } }, { upsert: true });
}
