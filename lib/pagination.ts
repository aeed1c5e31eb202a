/**
 * The one pagination vocabulary of every subgraph: Relay connections. Arguments are `first`/`after`,
 * page sizes are bounded (default 20, max 100), cursors are opaque base64url JSON arrays of the sort
 * key (checked on the way in), and a list comes back as `{ edges { cursor node } pageInfo totalCount }`,
 * which services return and resolvers pass through unchanged.
 */
import { badInput } from './errors.js';
import type { DocCollection, Filter, WithId } from './storage/types.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

export interface PageInfo {
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

export interface Connection<T> {
  readonly edges: readonly Edge<T>[];
  readonly pageInfo: PageInfo;
  readonly totalCount?: number;
}

/** A connection whose total was counted (a non-null `totalCount` in the SDL). */
export interface CountedConnection<T> extends Connection<T> {
  readonly totalCount: number;
}

export type CursorKey = readonly (string | number)[];

/** `first` defaults to 20 (or `max` when smaller); outside 1..max (default 100) is BAD_USER_INPUT. */
export function pageSize(first: number | null | undefined, max = MAX_PAGE_SIZE): number {
  if (first === null || first === undefined) return Math.min(DEFAULT_PAGE_SIZE, max);
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(`first must be between 1 and ${max}.`, 'first');
  return first;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key an `after` cursor carries (null without one); anything not of `shape` is BAD_USER_INPUT. */
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

/** The single sort key of an `after` cursor, or null without one. */
export function keyAfter<K extends 'string' | 'number'>(after: string | null | undefined, kind: K): (K extends 'string' ? string : number) | null {
  const key = decodeCursor(after, [kind]);
  return key ? (key[0] as K extends 'string' ? string : number) : null;
}

/**
 * A connection from `size + 1` fetched nodes (the extra one only says another page exists), each
 * node's cursor made from its sort key.
 */
export function connectionOf<T>(fetched: readonly T[], size: number, keyOf: (node: T, index: number) => CursorKey, totalCount: number): CountedConnection<T>;
export function connectionOf<T>(fetched: readonly T[], size: number, keyOf: (node: T, index: number) => CursorKey, totalCount?: number): Connection<T>;
export function connectionOf<T>(fetched: readonly T[], size: number, keyOf: (node: T, index: number) => CursorKey, totalCount?: number): Connection<T> {
  const edges = fetched.slice(0, size).map((node, i) => edgeOf(node, i, keyOf));
  const last = edges.at(-1);
  return {
    edges,
    pageInfo: {
      hasNextPage: fetched.length > size,
      get endCursor() {
        return last?.cursor ?? null;
      },
    },
    ...(totalCount === undefined ? {} : { totalCount }),
  };
}

/**
 * An edge whose cursor is encoded when first read: most queries select only the nodes, and a JSON
 * text and a base64 copy per edge were a visible share of a list request's cost (issue 14).
 */
function edgeOf<T>(node: T, index: number, keyOf: (node: T, index: number) => CursorKey): Edge<T> {
  let cursor: string | undefined;
  return {
    node,
    get cursor() {
      return (cursor ??= encodeCursor(keyOf(node, index)));
    },
  };
}

export const emptyConnection = <T>(): CountedConnection<T> => ({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });

export const nodesOf = <T>(connection: Connection<T>): T[] => connection.edges.map((e) => e.node);

/** The same page with each node replaced (cursors and page info kept). */
export const mapNodes = <T, R, C extends Connection<T>>(connection: C & Connection<T>, map: (node: T) => R): Omit<C, 'edges'> & Connection<R> => ({
  ...connection,
  edges: connection.edges.map((e) => ({ cursor: e.cursor, node: map(e.node) })),
});

/**
 * The same page without the nodes `keep` refuses; `pageInfo` still points past the last fetched
 * node, so the next page does not read the dropped ones again.
 */
export const filterNodes = <T, C extends Connection<T>>(connection: C & Connection<T>, keep: (node: T) => boolean): C => ({
  ...connection,
  edges: connection.edges.filter((e) => keep(e.node)),
});

export const idKey = (doc: { _id: string }): CursorKey => [doc._id];

/**
 * One page of a collection newest first: keyset on `_id` (ids are ObjectId hex, so they sort by
 * creation), after an opaque cursor, with the filter's total unless `withTotal` is false.
 */
export async function pageNewestFirst<T extends { _id: string }>(collection: DocCollection<T>, filter: Filter<T>, args: PageArgs): Promise<CountedConnection<WithId<T>>>;
export async function pageNewestFirst<T extends { _id: string }>(collection: DocCollection<T>, filter: Filter<T>, args: PageArgs, options: { withTotal: boolean }): Promise<Connection<WithId<T>>>;
export async function pageNewestFirst<T extends { _id: string }>(
  collection: DocCollection<T>,
  filter: Filter<T>,
  args: PageArgs,
  { withTotal = true }: { withTotal?: boolean } = {},
): Promise<Connection<WithId<T>>> {
  const size = pageSize(args.first);
  const after = keyAfter(args.after, 'string');
  const pageFilter = (after ? { ...filter, _id: { $lt: after } } : filter) as Filter<T>;
  const [docs, total] = await Promise.all([
    collection.find(pageFilter).sort({ _id: -1 }).limit(size + 1).toArray(),
    withTotal ? collection.countDocuments(filter) : Promise.resolve(undefined),
  ]);
  return connectionOf(docs, size, idKey, total);
}
