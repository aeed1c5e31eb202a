import { FolioError } from '../../../lib/errors.js';

/**
 * Why an EPUB was refused. Stable codes: callers store them on failed jobs and clients
 * may branch on them (`extensions.reason`), so never rename one; add new ones instead.
 */
export const EPUB_ERROR_REASONS = [
  'NOT_A_ZIP',
  'CORRUPT_ZIP',
  'ENCRYPTED',
  'TOO_LARGE',
  'TOO_MANY_ENTRIES',
  'ZIP_BOMB',
  'PATH_TRAVERSAL',
  'MISSING_CONTAINER',
  'MISSING_OPF',
  'BAD_XML',
  'XML_ENTITIES',
  'TOO_MANY_CHAPTERS',
  'TOO_MANY_PARAGRAPHS',
  'NO_CONTENT',
  'CHAPTER_TOO_LARGE',
  'BOOK_TOO_LARGE',
] as const;

export type EpubErrorReason = (typeof EPUB_ERROR_REASONS)[number];

/** A refused EPUB: a BAD_USER_INPUT error whose `reason` says what was wrong with the file. */
export class EpubError extends FolioError {
  readonly reason: EpubErrorReason;

  constructor(reason: EpubErrorReason, message: string, options: { cause?: unknown } = {}) {
    super('BAD_USER_INPUT', message, { details: { reason }, cause: options.cause });
    this.name = 'EpubError';
    this.reason = reason;
  }
}

export function isEpubError(error: unknown): error is EpubError {
  return error instanceof EpubError;
}
