import { describe, expect, it } from 'vitest';
import { Tokenizer, tokenize } from './tokenize.js';

describe('tokenize', () => {
  it('segments Chinese with jieba and keeps English words, lowercased and NFKC-normalised', () => {
    const tokens = tokenize('我们在读科幻小说 The Three-Body PROBLEM，ＡＢＣ');
    expect(tokens).toEqual(expect.arrayContaining(['我们', '科幻', '小说', '科幻小说', 'three', 'body', 'problem', 'abc']));
    expect(tokens).not.toContain('the'); // stop-word
    expect(tokens).not.toContain('，');
    expect(tokens).not.toContain('的');
  });

  it('stems plurals lightly and drops English stop-words', () => {
    expect(tokenize('The stories of libraries and books', 'en')).toEqual(['story', 'library', 'book']);
    expect(tokenize('glass bus', 'en')).toEqual(['glass', 'bus']);
  });

  it('keeps custom words (titles, names) whole once added', () => {
    const tokenizer = new Tokenizer();
    expect(tokenizer.tokenize('读了三体之后')).not.toContain('三体之后');
    const before = tokenizer.tokenize('我在看球状闪电吗');
    expect(before).not.toContain('球状闪电');
    expect(tokenizer.addWords(['球状闪电', '球状闪电', ''])).toBe(1);
    expect(tokenizer.tokenize('我在看球状闪电吗')).toContain('球状闪电');
  });

  it('segments paragraph by paragraph and is fast on long text', () => {
    const paragraph = '他站在图书馆的窗前，看着外面的雨。The rain kept falling on the old city.';
    const text = Array.from({ length: 3000 }, () => paragraph).join('\n'); // ~180k chars
    tokenize('预热');
    const started = performance.now();
    const tokens = tokenize(text);
    const ms = performance.now() - started;
    expect(tokens.length).toBeGreaterThan(3000 * 10);
    expect(ms).toBeLessThan(2000);
  });
});
