import { describe, expect, it } from 'vitest';
import { cleanText } from './text.js';

describe('cleanText', () => {
  it('normalises, trims and strips bidi controls', () => {
    expect(cleanText('  e\u0301 \u202Egood\u202C ', 'bio', { max: 10 })).toBe('é good');
  });
  it('refuses lone surrogates and control characters, naming the field', () => {
    expect(() => cleanText('a\uD800b', 'note', { max: 10 })).toThrow(/note contains invalid characters/);
    expect(() => cleanText('a\u0000b', 'note', { max: 10 })).toThrow(/control characters/);
    expect(cleanText('😀', 'note', { max: 10 })).toBe('😀');
  });
  it('bounds length after cleaning and collapses whitespace on one line', () => {
    expect(() => cleanText('   ', 'title', { max: 10 })).toThrow(/must not be empty/);
    expect(() => cleanText('abcdef', 'title', { max: 5 })).toThrow(/at most 5/);
    expect(cleanText('a\n\n  b', 'title', { max: 5, singleLine: true })).toBe('a b');
    expect(cleanText('', 'bio', { max: 5, min: 0 })).toBe('');
  });
});
