import { describe, expect, it } from 'vitest';
import { check, httpUrl, id, int, language, list, name, text } from './validation.js';

const refused = (f: () => unknown, message: RegExp, field: string) =>
  expect(f).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', message: expect.stringMatching(message), details: { field } }));

describe('shared input schemas', () => {
  it('cleans text by the lib/text.ts rules and names the field when it refuses', () => {
    expect(check(name(10), '  a \n\t b ', 'title')).toBe('a b');
    expect(check(text({ max: 10 }), ' a\n\nb ', 'note')).toBe('a\n\nb');
    refused(() => check(name(5), 'abcdefg', 'title'), /^title must be at most 5 characters/, 'title');
    refused(() => check(name(5), '   ', 'title'), /^title must not be empty/, 'title');
    refused(() => check(name(5), 42, 'title'), /^title must be text/, 'title');
    refused(() => check(text({ max: 10 }), 'a\u0000b', 'note'), /control characters/, 'note');
    expect(check(text({ max: 10, replaceControls: true }), '\u0000\u0001 sea', 'query')).toBe('sea');
  });

  it('accepts opaque ids, bounded and without the pair-key separator', () => {
    expect(check(id, 'r1-c0.p1', 'paragraphId')).toBe('r1-c0.p1');
    for (const bad of ['', 'a|b', 'x'.repeat(201), 7, null]) refused(() => check(id, bad, 'bookId'), /^bookId is not a valid id/, 'bookId');
  });

  it('bounds lists, names the bad entry, and keeps each entry once', () => {
    expect(check(list(id, 3), ['a', 'b', 'a'], 'ids')).toEqual(['a', 'b']);
    expect(check(list(name(10, { min: 0 }), 3), ['Ada', ' ', 'Ada'], 'authors')).toEqual(['Ada']);
    refused(() => check(list(id, 2), ['a', 'b', 'c'], 'ids'), /^ids may have at most 2 entries/, 'ids');
    refused(() => check(list(id, 5), ['a', 'b|c'], 'filter.bookIds'), /^filter\.bookIds\[1\] is not a valid id/, 'filter.bookIds[1]');
  });

  it('checks language tags, URLs and integers', () => {
    expect(check(language, 'zh_CN', 'language')).toBe('zh-CN');
    refused(() => check(language, "en'; DROP TABLE", 'language'), /BCP 47/, 'language');
    expect(check(httpUrl(100), 'https://example.org/a b', 'coverUrl')).toBe('https://example.org/a%20b');
    refused(() => check(httpUrl(100), 'javascript:alert(1)', 'coverUrl'), /http\(s\) URL/, 'coverUrl');
    refused(() => check(httpUrl(100), 'not a url', 'coverUrl'), /absolute URL/, 'coverUrl');
    expect(check(int(1, 10), 10, 'n')).toBe(10);
    for (const bad of [0, 11, 1.5, '3']) refused(() => check(int(1, 10), bad, 'n'), /^n must be an integer between 1 and 10/, 'n');
  });
});
