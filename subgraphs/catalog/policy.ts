/**
 * Catalog's access policy: the one place that decides who may read or manage what (the model is
 * Outline's `server/policies/`). Resolvers, the service, downloads and the internal access check
 * that ugc and search ask (`POST /internal/access`) all call `can`/`authorize` here, so catalog and
 * the services that annotate its content can never disagree about what a caller may read.
 *
 * - `read` a book: the licensing rule (licensing.ts: staff always; others a PUBLISHED book inside
 *   its licence window, territory and partner list).
 * - `read` a revision (its chapters and paragraphs): the book is readable, and the revision belongs
 *   to it and has been published (a replaced revision stays readable, so old annotations resolve);
 *   staff also read unpublished (draft) revisions.
 * - `download` a revision: the book's current published revision, by a signed-in user or partner,
 *   under the licence itself — staff rights do not extend to files.
 * - `manage` (create, edit, upload, publish, licence, jobs, drafts): EDITOR or ADMIN.
 *
 * Reading refusals are `NOT_FOUND` with one message whatever the reason, so an unpublished or
 * unlicensed thing is indistinguishable from one that does not exist.
 */
import { FolioError } from '../../lib/errors.js';
import { canRead, readerIsStaff, type Reader } from './licensing.js';
import type { BookDoc, RevisionDoc } from './store.js';

export type CatalogAction = 'read' | 'download' | 'manage';

export type CatalogSubject =
  | { readonly kind: 'book'; readonly book: Pick<BookDoc, 'status' | 'license'> }
  | {
      readonly kind: 'revision';
      readonly book: Pick<BookDoc, '_id' | 'status' | 'license' | 'publishedRevisionId'>;
      readonly revision: Pick<RevisionDoc, '_id' | 'bookId' | 'publishedAt'>;
    }
  /** The catalog as a whole: what staff manage. */
  | { readonly kind: 'catalog' };

export const CATALOG: CatalogSubject = { kind: 'catalog' };

/** The one "not there / not yours" answer for reads. */
export const NOT_AVAILABLE_MESSAGE = 'Not found, or not available to you.';
export const notAvailable = (): FolioError => new FolioError('NOT_FOUND', NOT_AVAILABLE_MESSAGE);

function canReadRevision(reader: Reader, subject: Extract<CatalogSubject, { kind: 'revision' }>, now: Date): boolean {
  const { book, revision } = subject;
  if (revision.bookId !== book._id) return false;
  if (readerIsStaff(reader)) return true;
  return canRead(book, reader, now) && revision.publishedAt !== null;
}

export function can(reader: Reader, action: CatalogAction, subject: CatalogSubject, now: Date = new Date()): boolean {
  switch (action) {
    case 'manage':
      return reader.userId !== null && readerIsStaff(reader);
    case 'read':
      if (subject.kind === 'book') return canRead(subject.book, reader, now);
      if (subject.kind === 'revision') return canReadRevision(reader, subject, now);
      return true;
    case 'download': {
      if (subject.kind !== 'revision' || (reader.userId === null && reader.partnerId === null)) return false;
      const { book, revision } = subject;
      // Staff rights stop at files: a download is checked as the licence sees its holder.
      return book.status === 'PUBLISHED' && revision._id === book.publishedRevisionId && canRead(book, { ...reader, roles: [] }, now);
    }
  }
}

/** `can`, or the error a client should see: UNAUTHENTICATED/FORBIDDEN for management, NOT_FOUND for everything else. */
export function authorize(reader: Reader, action: CatalogAction, subject: CatalogSubject | null | undefined, now: Date = new Date()): void {
  if (action === 'manage') {
    if (reader.userId === null) throw new FolioError('UNAUTHENTICATED', 'Sign in first.');
    if (!readerIsStaff(reader)) throw new FolioError('FORBIDDEN', 'Only EDITOR or ADMIN users may do that.');
    return;
  }
  if (!subject || !can(reader, action, subject, now)) throw notAvailable();
}

/**
 * The revision a reader is shown for a book: the published one; for staff the newest stored one
 * (drafts included). Null when the reader may not read the book.
 */
export function visibleRevisionId(book: Pick<BookDoc, 'status' | 'license' | 'publishedRevisionId' | 'latestRevisionId'>, reader: Reader, now: Date = new Date()): string | null {
  if (readerIsStaff(reader)) return book.latestRevisionId ?? book.publishedRevisionId;
  return canRead(book, reader, now) ? book.publishedRevisionId : null;
}
