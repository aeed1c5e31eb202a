/**
 * What every UGC service class shares: its collections, the outbox, catalog, and input checks.
 * Access rules are not here but in ../policy.ts; user-typed text goes through lib/text.ts cleanText.
 */
import type DataLoader from 'dataloader';
import { badInput } from '../../../lib/errors.js';
import type { Outbox } from '../../../lib/events.js';
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
  /** Distinct readers a passage needs before it shows in popularHighlights (FOLIO_POPULAR_HIGHLIGHT_MIN_READERS). */
  readonly popularMinReaders: number;
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
