/**
 * What a parse skipped or doubted without refusing the book. A book is stored with what could be
 * read, and these travel with its upload job so an editor is told before publishing a book that
 * lacks a chapter. Codes are stable (clients may branch on them): add, never rename.
 */
export const EPUB_WARNING_CODES = [
  /** A spine itemref names no manifest item. */
  'SPINE_UNKNOWN_ID',
  /** A spine item's file is not in the zip. */
  'SPINE_MISSING_FILE',
  /** A spine item's href points outside the package (a remote URL, or above the zip root). */
  'SPINE_OUTSIDE_PACKAGE',
  /** A spine item is not an (X)HTML document (an image, a zip, a font): skipped. */
  'SPINE_NOT_A_DOCUMENT',
  /** The same file is in the spine twice: read once. */
  'SPINE_DUPLICATE',
  /** The `mimetype` entry is missing or is not `application/epub+zip`. */
  'BAD_MIMETYPE',
  /** The cover image is larger than the cover limit: the book has no cover. */
  'COVER_TOO_LARGE',
  /** More warnings than are kept (see MAX_WARNINGS). */
  'MORE_WARNINGS',
] as const;

export type EpubWarningCode = (typeof EPUB_WARNING_CODES)[number];

export interface EpubWarning {
  readonly code: EpubWarningCode;
  readonly message: string;
}

/** A hostile book can earn one warning per spine item; a job keeps the first few. */
export const MAX_WARNINGS = 50;

/** Collects warnings up to MAX_WARNINGS, then counts the rest in one MORE_WARNINGS entry. */
export class WarningList {
  private readonly kept: EpubWarning[] = [];
  private dropped = 0;

  add(code: EpubWarningCode, message: string): void {
    if (this.kept.length < MAX_WARNINGS) this.kept.push({ code, message: message.slice(0, 500) });
    else this.dropped += 1;
  }

  toArray(): EpubWarning[] {
    return this.dropped === 0 ? [...this.kept] : [...this.kept, { code: 'MORE_WARNINGS', message: `${this.dropped} more warnings were not kept.` }];
  }
}
