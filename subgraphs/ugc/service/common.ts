/** What every UGC service class shares: its collections, the outbox, catalog, and input checks. */
import type DataLoader from 'dataloader';
import { badInput, FolioError } from '../../../lib/errors.js';
import type { Outbox } from '../../../lib/events.js';
import type { Caller } from '../../../lib/identity.js';
import type { Logger } from '../../../lib/logger.js';
import type { CatalogApi, CatalogChapter } from '../catalogClient.js';
import type { UgcStore } from '../store.js';

export interface UgcDeps {
  readonly store: UgcStore;
  readonly outbox: Outbox;
  readonly catalog: CatalogApi;
  /** Batched, cached chapter lookups (catalogClient.chapterLoader). */
  readonly chapters: DataLoader<string, CatalogChapter | null>;
  readonly logger: Logger;
  /** Injected so tests can move time. @default () => new Date() */
  readonly now?: () => Date;
}

/** Ids we receive are opaque strings issued by some service: bounded and without our key separator. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || value.includes('|')) {
    throw badInput(`${field} is not a valid id.`, field);
  }
  return value;
}

/** Trimmed text between min and max characters. */
export function checkText(value: unknown, field: string, { min = 0, max }: { min?: number; max: number }): string {
  if (typeof value !== 'string') throw badInput(`${field} must be text.`, field);
  const text = value.trim();
  if (text.length < min) throw badInput(min === 1 ? `${field} must not be empty.` : `${field} must be at least ${min} characters.`, field);
  if (text.length > max) throw badInput(`${field} may be at most ${max} characters.`, field);
  return text;
}

export function checkEnum<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw badInput(`${field} must be one of ${allowed.join(', ')}.`, field);
  }
  return value as T;
}

/** The caller may read the book now (published, licensed); NOT_FOUND otherwise, so unpublished books are not revealed. */
export async function requireReadable(catalog: CatalogApi, caller: Caller, bookId: string): Promise<void> {
  const readable = await catalog.readable([bookId], caller);
  if (!readable.has(bookId)) throw new FolioError('NOT_FOUND', 'Book not found.');
}
