import { describe, expect, it } from 'vitest';
import { createInflightDedup, type SharedResponse } from './inflightDedup.js';

const answer = (text: string): SharedResponse => ({ status: 200, headers: [], body: Buffer.from(text), cacheControl: undefined });

describe('inbound in-flight dedup', () => {
  it('runs identical concurrent requests once and keeps nothing afterwards', async () => {
    const dedup = createInflightDedup();
    let runs = 0;
    const execute = async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 20));
      return answer(`run ${runs}`);
    };
    const results = await Promise.all([dedup.run('k', execute), dedup.run('k', execute), dedup.run('other', execute)]);
    expect(results.map((r) => r.joined)).toEqual([false, true, false]);
    expect(results[0]!.response).toBe(results[1]!.response);
    expect(runs).toBe(2);
    const later = await dedup.run('k', execute);
    expect(later.joined).toBe(false);
    expect(runs).toBe(3);
  });

  it('only treats documents seen to be queries as shareable', () => {
    const dedup = createInflightDedup();
    expect(dedup.isKnownQuery('doc')).toBe(false);
    dedup.learn('doc', 'query');
    dedup.learn('mut', 'mutation');
    expect(dedup.isKnownQuery('doc')).toBe(true);
    expect(dedup.isKnownQuery('mut')).toBe(false);
  });
});
