import { describe, expect, it } from 'vitest';
import { highlight, snippet } from './snippet.js';

describe('snippet', () => {
  it('marks every matched term case-insensitively and escapes the rest', () => {
    expect(highlight('The <Lamp> and the lamp room', ['lamp'])).toBe('The &lt;<mark>Lamp</mark>&gt; and the <mark>lamp</mark> room');
  });

  it('prefers the longest term and marks Chinese words', () => {
    expect(highlight('陆羽写成《茶经》', ['茶', '茶经'])).toBe('陆羽写成《<mark>茶经</mark>》');
  });

  it('treats regex characters in terms literally', () => {
    expect(highlight('a+b (c)', ['a+b', '(c)'])).toBe('<mark>a+b</mark> <mark>(c)</mark>');
  });

  it('cuts a window around the first match with ellipses', () => {
    const text = `${'x '.repeat(300)}needle${' y'.repeat(300)}`;
    const s = snippet(text, ['needle'], 100);
    expect(s).toContain('<mark>needle</mark>');
    expect(s.startsWith('…')).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    expect(s.length).toBeLessThan(130);
  });
});
