/** The catalog's connections: keyset slices over one sort key, on the shared page rules of lib/pagination.ts. */
import { decodeCursor, encodeCursor, pageSize, type PageArgs } from '../../lib/pagination.js';

export type PageRequest = PageArgs;

export interface Slice<T> {
  readonly nodes: T[];
  readonly hasNextPage: boolean;
  readonly totalCount: number;
  /** Cursor of each node (same order). */
  readonly cursors: string[];
}

export const limitOf = (first: number | null | undefined): number => pageSize(first);

/** The sort key a cursor carries, or null without one; a malformed cursor is BAD_USER_INPUT. */
export function keyAfter<K extends 'string' | 'number'>(after: string | null | undefined, kind: K): (K extends 'string' ? string : number) | null {
  const key = decodeCursor(after, [kind]);
  return key ? (key[0] as K extends 'string' ? string : number) : null;
}

/** Shapes `limit + 1` fetched nodes into a slice. */
export function sliceOf<T>(fetched: T[], limit: number, totalCount: number, keyOfNode: (node: T) => string | number): Slice<T> {
  const nodes = fetched.slice(0, limit);
  return { nodes, hasNextPage: fetched.length > limit, totalCount, cursors: nodes.map((n) => encodeCursor([keyOfNode(n)])) };
}

/** The GraphQL connection shape of a slice. */
export function connectionOf<T>(slice: Slice<T>): {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
} {
  return {
    edges: slice.nodes.map((node, i) => ({ cursor: slice.cursors[i]!, node })),
    pageInfo: { hasNextPage: slice.hasNextPage, endCursor: slice.cursors.at(-1) ?? null },
    totalCount: slice.totalCount,
  };
}
