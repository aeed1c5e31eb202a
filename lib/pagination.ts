/**
 * Relay connection arguments and opaque cursors for every subgraph: page sizes bounded (default
 * 20, max 100) and cursors that are base64url JSON arrays of the sort key, checked on the way in.
 */
import { badInput } from './errors.js';
import type { DocCollection, Filter, WithId } from './storage/types.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
  readonly totalCount?: number;
}

/** `first` defaults to 20; above 100 (or below 0) is BAD_USER_INPUT. */
export function pageSize(first: number | null | undefined, max = MAX_PAGE_SIZE): number {
  if (first === null || first === undefined) return Math.min(DEFAULT_PAGE_SIZE, max);
  if (!Number.isInteger(first) || first < 0 || first > max) throw badInput(`first must be between 0 and ${max}.`, 'first');
  return first;
}

/** Cursors are base64url JSON arrays of the sort key; anything else is BAD_USER_INPUT. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(after: string | null | undefined, shape: readonly ('string' | 'number')[]): (string | number)[] | null {
  if (after === null || after === undefined) return null;
  if (after.length > 300) throw badInput('The cursor is not valid.', 'after');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw badInput('The cursor is not valid.', 'after');
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length || parsed.some((v, i) => typeof v !== shape[i])) {
    throw badInput('The cursor is not valid.', 'after');
  }
  return parsed as (string | number)[];
}

/** Fetches `size + 1` to learn whether another page exists. */
export function toPage<T>(docs: T[], size: number, totalCount?: number): Page<T> {
  return { items: docs.slice(0, size), hasNextPage: docs.length > size, ...(totalCount === undefined ? {} : { totalCount }) };
}

/** The cursor of the newest-first `_id` ordering most lists use. */
export function afterId(after: string | null | undefined): string | null {
  const key = decodeCursor(after, ['string']);
  return key ? (key[0] as string) : null;
}

/**
 * One page of a collection newest first: keyset on `_id` (ids are ObjectId hex, so they sort by
 * creation), after an opaque cursor, with the filter's total unless `withTotal` is false.
 */
export async function pageNewestFirst<T extends { _id: string }>(
  collection: DocCollection<T>,
  filter: Filter<T>,
  args: PageArgs,
  { withTotal = true }: { withTotal?: boolean } = {},
): Promise<Page<WithId<T>>> {
  const size = pageSize(args.first);
  const after = afterId(args.after);
  const pageFilter = (after ? { ...filter, _id: { $lt: after } } : filter) as Filter<T>;
  const [docs, total] = await Promise.all([
    collection.find(pageFilter).sort({ _id: -1 }).limit(size + 1).toArray(),
    withTotal ? collection.countDocuments(filter) : Promise.resolve(undefined),
  ]);
  return toPage(docs, size, total);
}
