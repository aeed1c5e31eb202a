import { describe, expect, it } from 'vitest';
import { connectionOf, decodeCursor, encodeCursor, filterNodes, keyAfter, mapNodes, nodesOf, pageSize } from './pagination.js';

describe('pagination', () => {
  it('bounds page sizes: default 20, 1 to 100, integers only', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(null)).toBe(20);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(100)).toBe(100);
    for (const bad of [101, 0, -1, 2.5]) expect(() => pageSize(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'first' } }));
  });

  it('round-trips cursors and refuses ones of another shape', () => {
    expect(decodeCursor(encodeCursor([5, 'a']), ['number', 'string'])).toEqual([5, 'a']);
    expect(keyAfter(encodeCursor(['x']), 'string')).toBe('x');
    expect(keyAfter(null, 'string')).toBeNull();
    for (const bad of ['!!', encodeCursor(['x']), encodeCursor([1, 2]), 'a'.repeat(301), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(() => keyAfter(bad, 'number')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('makes a Relay connection from size + 1 fetched nodes', () => {
    const page = connectionOf([{ k: 1 }, { k: 2 }, { k: 3 }], 2, (n) => [n.k], 7);
    expect(nodesOf(page)).toEqual([{ k: 1 }, { k: 2 }]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor([2]) });
    expect(page.edges[0]!.cursor).toBe(encodeCursor([1]));
    expect(page.totalCount).toBe(7);
    const last = connectionOf([{ k: 3 }], 2, (n) => [n.k]);
    expect(last.pageInfo.hasNextPage).toBe(false);
    expect('totalCount' in last).toBe(false);
    expect(connectionOf([], 2, () => []).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('maps and filters nodes without moving the page past what was read', () => {
    const page = connectionOf([1, 2, 3], 3, (n) => [n]);
    expect(nodesOf(mapNodes(page, (n) => n * 10))).toEqual([10, 20, 30]);
    expect(mapNodes(page, String).edges.map((e) => e.cursor)).toEqual(page.edges.map((e) => e.cursor));
    const kept = filterNodes(page, (n) => n !== 3);
    expect(nodesOf(kept)).toEqual([1, 2]);
    expect(kept.pageInfo.endCursor).toBe(encodeCursor([3]));
  });
});
