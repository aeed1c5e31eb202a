/**
 * Options of the re-anchoring matcher, in the three steps the project uses for config: typed
 * options with documented defaults, a function that fills the defaults in, and validation that
 * names the bad field (as a BAD_USER_INPUT FolioError, since callers may pass them through).
 */
import { z } from 'zod';
import { badInput } from '../../../lib/errors.js';
import { DEFAULT_CONTEXT_CHARS, DEFAULT_MAX_QUOTE_LENGTH } from './describe.js';

export interface ReanchorOptions {
  /**
   * Code units of context stored before and after a quote in anchors this library produces.
   * 32 is what Hypothesis stores.
   * @default 32
   */
  readonly contextChars?: number;
  /**
   * Lowest score (0..1) at which a candidate is trusted; below it the highlight is ORPHANED.
   * An intact short quote whose context is entirely different scores about 0.72, so 0.75
   * rejects it while intact long quotes and lightly edited quotes in their context pass.
   * @default 0.75
   */
  readonly minScore?: number;
  /**
   * Edits allowed in a fuzzy match, as a fraction of the (capped) quote length.
   * @default 0.3
   */
  readonly maxErrorRatio?: number;
  /**
   * Longer quotes are fuzzy-matched by their head and tail of half this length each, so the
   * cost of approximate search stays bounded whatever the highlight's length.
   * @default 256
   */
  readonly maxFuzzyQuoteLength?: number;
  /**
   * When no seed locates an edited quote, search up to this many code units either side of
   * its old position in its own chapter before giving up (less for short quotes: eight times
   * the quote's length plus 64).
   * @default 1024
   */
  readonly fuzzyWindow?: number;
  /**
   * Most exact occurrences of one quote that are fully scored when none has its stored
   * context intact (a short quote may occur hundreds of times); they are picked by how much
   * context agrees, then by nearness to the old position.
   * @default 16
   */
  readonly maxExactCandidates?: number;
  /**
   * Look in the other chapters of the revision when the highlight's own chapter has no
   * trusted match (chapters split, merged or renamed).
   * @default true
   */
  readonly searchOtherChapters?: boolean;
  /**
   * Anchors whose quote is longer than this are rejected as INVALID_ANCHOR.
   * @default 20000
   */
  readonly maxQuoteLength?: number;
}

export type ResolvedReanchorOptions = Required<ReanchorOptions>;

const schema = z.strictObject({
  contextChars: z.number().int().min(0).max(256).default(DEFAULT_CONTEXT_CHARS),
  minScore: z.number().min(0).max(1).default(0.75),
  maxErrorRatio: z.number().gt(0).max(0.5).default(0.3),
  maxFuzzyQuoteLength: z.number().int().min(32).max(4096).default(256),
  fuzzyWindow: z.number().int().min(0).max(65_536).default(1024),
  maxExactCandidates: z.number().int().min(1).max(10_000).default(16),
  searchOtherChapters: z.boolean().default(true),
  maxQuoteLength: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_QUOTE_LENGTH),
});

/** Fills in defaults; throws BAD_USER_INPUT naming the first bad field. */
export function resolveReanchorOptions(options: ReanchorOptions = {}): ResolvedReanchorOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'options';
    throw badInput(`Invalid re-anchoring option ${field}: ${issue?.message ?? 'invalid'}.`, field);
  }
  return parsed.data;
}
