import { describe, expect, it } from 'vitest';
import { describeAnchor } from './describe.js';
import { PARAGRAPH_BREAK, paragraph, seededRandom } from '../../../test/kit/anchoringFixtures.js';
import { RevisionMatcher, reanchor } from './reanchor.js';
import type { ReanchorResult, TextAnchor } from './types.js';

const rnd = seededRandom(7);
const PARAS = Array.from({ length: 12 }, () => paragraph(rnd));
const join = (paras: readonly string[]): string => paras.join(PARAGRAPH_BREAK);
const TEXT = join(PARAS);

/** A highlight of `length` code units, `offset` into paragraph `p` of `text`. */
function highlight(text: string, p: number, offset: number, length: number, chapterId = 'ch1'): TextAnchor {
  const start = text.indexOf(PARAS[p]!) + offset;
  return describeAnchor(text, chapterId, start, start + length);
}

function placedText(result: ReanchorResult, chapters: ReadonlyMap<string, string>): string {
  if (result.status === 'ORPHANED') throw new Error(`orphaned: ${result.detail}`);
  return chapters.get(result.anchor.chapterId)!.slice(result.anchor.start, result.anchor.end);
}

describe('reanchor: position and exact quote', () => {
  it('returns UNCHANGED when the text is the same', () => {
    const anchor = highlight(TEXT, 4, 10, 60);
    const result = reanchor(anchor, new Map([['ch1', TEXT]]));
    expect(result).toEqual({ status: 'UNCHANGED', anchor });
  });

  it('moves an intact quote by the length of paragraphs inserted before it', () => {
    const anchor = highlight(TEXT, 6, 5, 45);
    const inserted = [paragraph(rnd), paragraph(rnd)];
    const next = join([...PARAS.slice(0, 2), ...inserted, ...PARAS.slice(2)]);
    const chapters = new Map([['ch1', next]]);
    const result = reanchor(anchor, chapters);
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact' });
    if (result.status !== 'MOVED') return;
    const shift = inserted.join(PARAGRAPH_BREAK).length + PARAGRAPH_BREAK.length;
    expect(result.anchor.start).toBe(anchor.start + shift);
    expect(result.anchor.end).toBe(anchor.end + shift);
    expect(result.score).toBeGreaterThan(0.95);
    expect(placedText(result, chapters)).toBe(anchor.exact);
  });

  it('keeps UNCHANGED when edits are only after the highlight, refreshing nothing it needs', () => {
    const anchor = highlight(TEXT, 1, 0, 30);
    const next = join([...PARAS.slice(0, 3), paragraph(rnd), ...PARAS.slice(4)]);
    expect(reanchor(anchor, new Map([['ch1', next]]))).toEqual({ status: 'UNCHANGED', anchor });
  });

  it('reports the same offsets as UNCHANGED with refreshed context when only context changed', () => {
    const text = 'Alpha beta gamma. The lantern was lit at dusk by the keeper. Omega psi chi.';
    const start = text.indexOf('The lantern');
    const anchor = describeAnchor(text, 'ch1', start, start + 'The lantern was lit at dusk by the keeper.'.length);
    const next = 'Alpha beta gamma. The lantern was lit at dusk by the keeper. Omega rho tau.';
    const result = reanchor(anchor, new Map([['ch1', next]]));
    expect(result.status).toBe('UNCHANGED');
    if (result.status === 'UNCHANGED') expect(result.anchor.suffix).toBe(' Omega rho tau.');
  });

  it('picks, among duplicates of the quote, the one whose prefix and suffix match', () => {
    const quote = 'the lantern in the window';
    const text = `She left ${quote} and went out. Much later, he saw ${quote} from the harbour road.`;
    const start = text.lastIndexOf(quote);
    const anchor = describeAnchor(text, 'ch1', start, start + quote.length);
    // The revision inserts text before both and swaps which one is near the old offset.
    const next = `A new opening sentence that is long enough to move things. Much later, he saw ${quote} from the harbour road. She left ${quote} and went out.`;
    const result = reanchor(anchor, new Map([['ch1', next]]));
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact' });
    if (result.status === 'MOVED') {
      expect(result.anchor.start).toBe(next.indexOf(quote));
      expect(result.anchor.prefix.endsWith('Much later, he saw ')).toBe(true);
    }
  });

  it('picks the nearest of duplicates whose context is identical', () => {
    const unit = 'Repeat this line exactly. ';
    const text = unit.repeat(6);
    const anchor = describeAnchor(text, 'ch1', unit.length * 3, unit.length * 4 - 1);
    const next = 'Inserted. ' + text;
    const result = reanchor(anchor, new Map([['ch1', next]]));
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact' });
    if (result.status === 'MOVED') expect(result.anchor.start).toBe(anchor.start + 'Inserted. '.length);
  });

  it('re-anchors Chinese text', () => {
    const zrnd = seededRandom(3);
    const zh = Array.from({ length: 8 }, () => paragraph(zrnd, 'zh'));
    const text = join(zh);
    const start = text.indexOf(zh[5]!) + 3;
    const anchor = describeAnchor(text, '第一章', start, start + 12);
    const next = join([paragraph(zrnd, 'zh'), ...zh.slice(0, 4), ...zh.slice(5, 6), ...zh.slice(7)]);
    const chapters = new Map([['第一章', next]]);
    const result = reanchor(anchor, chapters);
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact' });
    expect(placedText(result, chapters)).toBe(anchor.exact);
  });

  it('uses the quote when the stored offsets lie beyond the new chapter', () => {
    const anchor = { ...highlight(TEXT, 10, 3, 40), start: 1_000_000, end: 1_000_040 };
    const chapters = new Map([['ch1', TEXT]]);
    const result = reanchor(anchor, chapters);
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact' });
    expect(placedText(result, chapters)).toBe(anchor.exact);
  });

  it('orphans malformed stored anchors instead of throwing', () => {
    const matcher = new RevisionMatcher(new Map([['ch1', TEXT]]));
    const good = highlight(TEXT, 2, 0, 20);
    const bad: TextAnchor[] = [
      { ...good, exact: '' },
      { ...good, exact: ' \n\t ' },
      { ...good, start: -1 },
      { ...good, start: 10, end: 5 },
      { ...good, end: Number.NaN },
      { ...good, exact: 'x'.repeat(20_001) },
      { ...good, prefix: 'p'.repeat(5000) },
      null as unknown as TextAnchor,
    ];
    for (const anchor of bad) {
      expect(matcher.reanchor(anchor)).toMatchObject({ status: 'ORPHANED', reason: 'INVALID_ANCHOR' });
    }
  });

  it('reuses one matcher across many highlights', () => {
    const matcher = new RevisionMatcher([{ id: 'ch1', text: join([paragraph(rnd), ...PARAS]) }]);
    for (let p = 0; p < PARAS.length; p += 1) {
      const anchor = highlight(TEXT, p, 0, 25);
      const result = matcher.reanchor(anchor);
      expect(result).toMatchObject({ status: 'MOVED', method: 'exact', anchor: { exact: anchor.exact } });
    }
  });
});
