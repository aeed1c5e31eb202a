/** Connection arguments for the catalog's lists: bounded page sizes and opaque keyset cursors. */
import { badInput } from '../../lib/errors.js';

export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;

export interface PageRequest {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Slice<T> {
  readonly nodes: T[];
  readonly hasNextPage: boolean;
  readonly totalCount: number;
  /** Cursor of each node (same order). */
  readonly cursors: string[];
}

export function limitOf(first: number | null | undefined): number {
  const n = first ?? PAGE_DEFAULT;
  if (!Number.isInteger(n) || n < 0 || n > PAGE_MAX) throw badInput(`first must be an integer from 0 to ${PAGE_MAX}.`, 'first');
  return n;
}

/** A cursor wraps one sort-key value (string or number) as base64url JSON. */
export const cursorOf = (key: string | number): string => Buffer.from(JSON.stringify({ k: key })).toString('base64url');

export function keyAfter<K extends 'string' | 'number'>(after: string | null | undefined, kind: K): (K extends 'string' ? string : number) | null {
  if (after === null || after === undefined) return null;
  try {
    if (after.length <= 1_200) {
      const value = (JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as { k?: unknown }).k;
      if (typeof value === kind) return value as K extends 'string' ? string : number;
    }
  } catch {
    // fall through: any malformed cursor is the same client error
  }
  throw badInput('The cursor "after" is not valid.', 'after');
}

/** Shapes `limit + 1` fetched nodes into a slice. */
export function sliceOf<T>(fetched: T[], limit: number, totalCount: number, keyOfNode: (node: T) => string | number): Slice<T> {
  const nodes = fetched.slice(0, limit);
  return { nodes, hasNextPage: fetched.length > limit, totalCount, cursors: nodes.map((n) => cursorOf(keyOfNode(n))) };
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
