/**
 * What every UGC service class shares: its collections, the outbox, catalog, and input checks.
 * Access rules are not here but in ../policy.ts; user-typed text goes through lib/text.ts cleanText.
 */
import type DataLoader from 'dataloader';
import type { Outbox } from '../../../lib/events.js';
import { badInput } from '../../../lib/errors.js';
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

/** Device clocks drift; a report from further in the future than this is refused, or it would pin progress. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** When a device says it made a change: a date at most MAX_CLOCK_SKEW_MS ahead of the server. */
export function checkClientTime(clientTime: unknown, now: Date): Date {
  if (!(clientTime instanceof Date) || Number.isNaN(clientTime.getTime())) throw badInput('clientTime must be a date.', 'clientTime');
  if (clientTime.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) throw badInput('clientTime is in the future; check the device clock.', 'clientTime');
  return clientTime;
}
