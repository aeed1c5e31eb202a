/**
 * Search's access policy (the model is Outline's `server/policies/`): what a caller may find. Hits
 * and answers quote book text, so a hit is shown exactly when catalog would show its book to the
 * caller — asked through catalog's one access check (`POST /internal/access`, batched per request);
 * the index holds only published revisions, so the book's answer is the paragraph's. A user's own
 * notes index is theirs alone; index status is for staff.
 */
import DataLoader from 'dataloader';
import { FolioError } from '../../lib/errors.js';
import { requireRole, requireUser, type Caller } from '../../lib/identity.js';
import type { CatalogClient } from './catalogClient.js';

export type SearchAction = 'read';
export type SearchSubject =
  /** A book or paragraph hit, or a passage an answer would cite; `bookReadable` is catalog's answer. */
  | { readonly type: 'Hit'; readonly bookReadable: boolean }
  /** The caller's private notes index. */
  | { readonly type: 'OwnNotes' }
  | { readonly type: 'IndexStatus' };

export const NOT_AVAILABLE_MESSAGE = 'Not found, or not available to you.';
export const notAvailable = (): FolioError => new FolioError('NOT_FOUND', NOT_AVAILABLE_MESSAGE);

export function can(viewer: Caller, _action: SearchAction, subject: SearchSubject): boolean {
  switch (subject.type) {
    case 'Hit':
      return subject.bookReadable;
    case 'OwnNotes':
      return viewer.userId !== null;
    case 'IndexStatus':
      return viewer.userId !== null && (viewer.roles.includes('EDITOR') || viewer.roles.includes('ADMIN'));
  }
}

/** `can`, or the error a client sees: sign in / staff role where that is what is missing, else the one NOT_FOUND. */
export function authorize(viewer: Caller, action: SearchAction, subject: SearchSubject | null | undefined): void {
  if (subject?.type === 'OwnNotes') {
    requireUser(viewer);
    return;
  }
  if (subject?.type === 'IndexStatus') {
    requireRole(viewer, 'EDITOR', 'ADMIN');
    return;
  }
  if (!subject || !can(viewer, action, subject)) throw notAvailable();
}

/** Which of these books' hits the viewer may see: every check of one request in one catalog call. */
export type ReadableCheck = (bookIds: readonly string[]) => Promise<ReadonlySet<string>>;

export function readableCheck(catalog: CatalogClient, viewer: Caller): { loader: DataLoader<string, boolean>; check: ReadableCheck } {
  const loader = new DataLoader<string, boolean>(
    async (ids) => {
      const allowed = await catalog.readableBooks(ids, viewer);
      return ids.map((id) => can(viewer, 'read', { type: 'Hit', bookReadable: allowed.has(id) }));
    },
    { maxBatchSize: 2_000 },
  );
  return {
    loader,
    check: async (ids) => {
      const flags = await loader.loadMany(ids);
      // Fail closed, and say so: an empty result would tell the client that nothing matched.
      const failure = flags.find((flag) => flag instanceof Error);
      if (failure) {
        throw new FolioError('SERVICE_UNAVAILABLE', 'Search cannot check which books you may read right now (catalog is unavailable); retry later.', { cause: failure });
      }
      return new Set(ids.filter((_, i) => flags[i] === true));
    },
  };
}
