/**
 * What every UGC service class shares: its collections, the outbox, catalog, and input checks.
 * Access rules are not here but in ../policy.ts; user-typed text goes through lib/text.ts cleanText.
 */
import type DataLoader from 'dataloader';
import type { Outbox } from '../../../lib/events.js';
import { check, id } from '../../../lib/validation.js';
import type { Clock } from '../../../lib/clock.js';
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
  /** Business time (lib/clock.ts); tests move it. */
  readonly now: Clock;
}

/** Ids we receive are opaque strings issued by some service (lib/validation.ts `id`). */
export const checkId = (value: unknown, field: string): string => check(id, value, field);
