import { describe, expect, it } from 'vitest';
import { describeAnchor } from './describe.js';
import { PARAGRAPH_BREAK, paragraph, seededRandom } from '../../../test/kit/anchoringFixtures.js';
import { reanchor } from './reanchor.js';

const rnd = seededRandom(11);
const PARAS = Array.from({ length: 12 }, () => paragraph(rnd));
const join = (paras: readonly string[]): string => paras.join(PARAGRAPH_BREAK);
const TEXT = join(PARAS);
const chapter = (text: string): Map<string, string> => new Map([['ch1', text]]);

/** `text` with the word at `at` (an offset inside it) replaced. */
function replaceWordAt(text: string, at: number, replacement: string): string {
  let s = at;
  while (s > 0 && /\w/.test(text[s - 1]!)) s -= 1;
  let e = at;
  while (e < text.length && /\w/.test(text[e]!)) e += 1;
  return text.slice(0, s) + replacement + text.slice(e);
}

describe('reanchor: approximate matching', () => {
  it('moves a quote with an edited word as fuzzy, with a score below 1', () => {
    const start = TEXT.indexOf(PARAS[5]!) + 10;
    const anchor = describeAnchor(TEXT, 'ch1', start, start + 80);
    const edited = replaceWordAt(TEXT, start + 40, 'WHEREUPON');
    const result = reanchor(anchor, chapter(edited));
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy' });
    if (result.status !== 'MOVED') return;
    expect(result.score).toBeGreaterThan(0.75);
    expect(result.score).toBeLessThan(1);
    expect(result.anchor.start).toBe(start);
    expect(result.anchor.exact).toContain('WHEREUPON');
    expect(result.anchor.exact.slice(0, 20)).toBe(anchor.exact.slice(0, 20));
    expect(result.anchor.exact.slice(-20)).toBe(anchor.exact.slice(-20));
  });

  it('finds an edited quote after paragraphs were inserted before it', () => {
    const start = TEXT.indexOf(PARAS[8]!) + 5;
    const anchor = describeAnchor(TEXT, 'ch1', start, start + 60);
    const edited = replaceWordAt(TEXT, start + 30, 'thunderous');
    const next = join([paragraph(rnd), paragraph(rnd), paragraph(rnd)]) + PARAGRAPH_BREAK + edited;
    const result = reanchor(anchor, chapter(next));
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy' });
    if (result.status === 'MOVED') {
      expect(result.anchor.exact).toContain('thunderous');
      expect(result.anchor.prefix).toBe(anchor.prefix);
      expect(result.anchor.suffix).toBe(anchor.suffix);
    }
  });

  it('matches a long quote (beyond the fuzzy cap) by head and tail', () => {
    const para = PARAS.find((p) => p.length > 400)!;
    const start = TEXT.indexOf(para);
    const anchor = describeAnchor(TEXT, 'ch1', start, start + para.length);
    const editedPara = replaceWordAt(para, Math.floor(para.length / 2), 'nevertheless');
    const next = join([paragraph(rnd), ...PARAS.map((p) => (p === para ? editedPara : p))]);
    const result = reanchor(anchor, chapter(next));
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy' });
    if (result.status === 'MOVED') {
      expect(result.anchor.exact).toBe(editedPara);
      expect(result.score).toBeGreaterThan(0.9);
    }
  });

  it('finds an edited quote with no intact seed near its old position', () => {
    const text = 'Call me Ishmael, said he.';
    const anchor = describeAnchor(text, 'ch1', 0, text.length);
    const result = reanchor(anchor, chapter('Cal me Ishmael, sayd he.'));
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy', anchor: { exact: 'Cal me Ishmael, sayd he.' } });
  });

  it('orphans a highlight whose paragraph was deleted', () => {
    const start = TEXT.indexOf(PARAS[6]!) + 12;
    const anchor = describeAnchor(TEXT, 'ch1', start, start + 50);
    const next = join([...PARAS.slice(0, 6), ...PARAS.slice(7)]);
    const result = reanchor(anchor, chapter(next));
    expect(result.status).toBe('ORPHANED');
  });

  it('orphans a heavily rewritten quote', () => {
    const start = TEXT.indexOf(PARAS[3]!);
    const anchor = describeAnchor(TEXT, 'ch1', start, start + 60);
    let next = TEXT;
    for (let at = start + 2; at < start + 60; at += 7) next = replaceWordAt(next, at, 'zz');
    expect(reanchor(anchor, chapter(next)).status).toBe('ORPHANED');
  });

  it('does not trust a short quote found only in unrelated context', () => {
    const text = 'The captain read the letter twice, then burned it in the stove.';
    const start = text.indexOf('the letter');
    const anchor = describeAnchor(text, 'ch1', start, start + 'the letter'.length);
    const next = 'Nobody in the village had ever received the letter they were all waiting for.';
    const result = reanchor(anchor, chapter(next));
    expect(result).toMatchObject({ status: 'ORPHANED', reason: 'LOW_SCORE' });
    if (result.status === 'ORPHANED') expect(result.bestScore).toBeLessThan(0.75);
  });

  it('keeps the work bounded on repetitive text', () => {
    const text = '* '.repeat(200_000);
    const anchor = { chapterId: 'ch1', start: 1000, end: 1064, exact: '* '.repeat(20) + '*-' + '* '.repeat(11), prefix: '* '.repeat(16), suffix: '* '.repeat(16) };
    const started = performance.now();
    const result = reanchor(anchor, chapter(text));
    expect(result.status).toBe('ORPHANED'); // matched exactly or not at all
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('re-anchors edited Chinese text', () => {
    const zrnd = seededRandom(5);
    const zh = Array.from({ length: 6 }, () => paragraph(zrnd, 'zh'));
    const text = join(zh);
    const start = text.indexOf(zh[3]!) + 4;
    const anchor = describeAnchor(text, '卷一', start, start + 30);
    const next = join([paragraph(zrnd, 'zh'), ...zh]).replace(anchor.exact, anchor.exact.slice(0, 14) + '春秋' + anchor.exact.slice(16));
    const result = reanchor(anchor, new Map([['卷一', next]]));
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy' });
    if (result.status === 'MOVED') expect(result.anchor.exact).toBe(anchor.exact.slice(0, 14) + '春秋' + anchor.exact.slice(16));
  });
});
