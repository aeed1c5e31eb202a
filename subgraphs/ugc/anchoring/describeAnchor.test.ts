import { describe, expect, it } from 'vitest';
import { FolioError } from '../../../lib/errors.js';
import { describeAnchor } from './describe.js';

const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom.';

function badInputOf(fn: () => unknown): FolioError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FolioError);
    expect((error as FolioError).code).toBe('BAD_USER_INPUT');
    return error as FolioError;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('describeAnchor', () => {
  it('stores the quote with up to contextChars of prefix and suffix', () => {
    const start = TEXT.indexOf('worst');
    const anchor = describeAnchor(TEXT, 'ch1', start, start + 'worst of times'.length, { contextChars: 10 });
    expect(anchor).toEqual({
      chapterId: 'ch1',
      start,
      end: start + 14,
      exact: 'worst of times',
      prefix: ', it was the '.slice(-10),
      suffix: ', it was t',
    });
  });

  it('keeps shorter context at the chapter edges', () => {
    const anchor = describeAnchor(TEXT, 'ch1', 0, 6);
    expect(anchor.prefix).toBe('');
    expect(anchor.suffix).toBe(TEXT.slice(6, 38));
    const end = describeAnchor(TEXT, 'ch1', TEXT.length - 7, TEXT.length);
    expect(end.exact).toBe('wisdom.');
    expect(end.suffix).toBe('');
  });

  it('trims whitespace off the selection and moves the offsets with it', () => {
    const text = 'First line.\n  Second line.  \nThird.';
    const start = text.indexOf('\n');
    const anchor = describeAnchor(text, 'ch1', start, text.indexOf('Third'));
    expect(anchor.exact).toBe('Second line.');
    expect(text.slice(anchor.start, anchor.end)).toBe('Second line.');
  });

  it('rejects empty and whitespace-only selections', () => {
    badInputOf(() => describeAnchor(TEXT, 'ch1', 5, 5));
    const text = 'a \n\u3000 \t b';
    badInputOf(() => describeAnchor(text, 'ch1', 1, text.length - 1));
  });

  it('rejects offsets outside the chapter or not integers', () => {
    badInputOf(() => describeAnchor(TEXT, 'ch1', -1, 4));
    badInputOf(() => describeAnchor(TEXT, 'ch1', 10, TEXT.length + 1));
    badInputOf(() => describeAnchor(TEXT, 'ch1', 8, 3));
    badInputOf(() => describeAnchor(TEXT, 'ch1', 1.5, 4));
    badInputOf(() => describeAnchor(TEXT, 'ch1', Number.NaN, 4));
  });

  it('rejects a missing chapter id and overlong quotes', () => {
    badInputOf(() => describeAnchor(TEXT, '', 0, 4));
    const error = badInputOf(() => describeAnchor(TEXT, 'ch1', 0, 40, { maxQuoteLength: 20 }));
    expect(error.details).toEqual({ field: 'end' });
  });

  it('never splits a surrogate pair, in the quote or in its context', () => {
    const text = 'ab😀cd😀efgh';
    badInputOf(() => describeAnchor(text, 'ch1', 3, 6)); // starts on the low half of 😀
    const anchor = describeAnchor(text, 'ch1', 4, 6, { contextChars: 3 });
    expect(anchor).toMatchObject({ exact: 'cd', prefix: 'b😀', suffix: '😀e' });
    // One code unit either side would take half of each emoji: the context drops it instead.
    expect(describeAnchor(text, 'ch1', 4, 6, { contextChars: 1 })).toMatchObject({ prefix: '', suffix: '' });
  });

  it('describes Chinese text by UTF-16 offsets', () => {
    const text = '第一章。天下大势，分久必合，合久必分。周末七国分争，并入于秦。';
    const start = text.indexOf('分久必合');
    const anchor = describeAnchor(text, '一', start, start + 4, { contextChars: 4 });
    expect(anchor).toMatchObject({ exact: '分久必合', prefix: '天下大势，'.slice(-4), suffix: '，合久必' });
  });
});
