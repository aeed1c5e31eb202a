import { describe, expect, it } from 'vitest';
import { FolioError } from '../../../lib/errors.js';
import { describeAnchor } from './describe.js';
import { PARAGRAPH_BREAK, paragraph, seededRandom } from '../../../test/kit/anchoringFixtures.js';
import { RevisionMatcher, reanchor } from './reanchor.js';

const rnd = seededRandom(21);
const join = (paras: readonly string[]): string => paras.join(PARAGRAPH_BREAK);
const CH = Array.from({ length: 4 }, () => Array.from({ length: 10 }, () => paragraph(rnd)));
const OLD = new Map(CH.map((paras, i) => [`ch${i}`, join(paras)]));

function highlightIn(chapter: number, p: number, offset = 5, length = 50) {
  const text = OLD.get(`ch${chapter}`)!;
  const start = text.indexOf(CH[chapter]![p]!) + offset;
  return describeAnchor(text, `ch${chapter}`, start, start + length);
}

describe('reanchor: chapters that moved', () => {
  it('finds a highlight in the second half of a split chapter', () => {
    const next = new Map([
      ['ch0', OLD.get('ch0')!],
      ['ch1', join(CH[1]!.slice(0, 5))],
      ['ch1-2', join(CH[1]!.slice(5))],
      ['ch2', OLD.get('ch2')!],
    ]);
    const anchor = highlightIn(1, 7);
    const result = reanchor(anchor, next);
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact', anchor: { chapterId: 'ch1-2', exact: anchor.exact } });
    if (result.status === 'MOVED') expect(next.get('ch1-2')!.slice(result.anchor.start, result.anchor.end)).toBe(anchor.exact);
    // The first half keeps its id, so its highlights are untouched.
    expect(reanchor(highlightIn(1, 2), next).status).toBe('UNCHANGED');
  });

  it('finds a highlight when every chapter was re-keyed, with or without the old index', () => {
    const next = [...OLD.values()].map((text, i) => ({ id: `rev2-${i}`, text }));
    const matcher = new RevisionMatcher(next);
    const anchor = highlightIn(2, 4);
    for (const hint of [{ chapterIndex: 2 }, {}]) {
      const result = matcher.reanchor(anchor, hint);
      expect(result).toMatchObject({
        status: 'MOVED',
        method: 'exact',
        anchor: { chapterId: 'rev2-2', start: anchor.start, end: anchor.end },
      });
    }
  });

  it('finds an edited quote in another chapter', () => {
    const anchor = highlightIn(3, 6, 0, 70);
    const moved = OLD.get('ch3')!.replace(anchor.exact, anchor.exact.replace(/\b\w+\b/, 'Yesterday'));
    const next = new Map([
      ['ch0', OLD.get('ch0')!],
      ['appendix', moved],
    ]);
    const result = reanchor(anchor, next);
    expect(result).toMatchObject({ status: 'MOVED', method: 'fuzzy', anchor: { chapterId: 'appendix' } });
    if (result.status === 'MOVED') expect(result.anchor.exact.startsWith('Yesterday')).toBe(true);
  });

  it('finds a short quote in another chapter through its context', () => {
    const text = OLD.get('ch0')!;
    const start = text.indexOf(CH[0]![3]!) + 10;
    const anchor = describeAnchor(text, 'ch0', start, start + 6);
    const next = new Map([['other', `${paragraph(rnd)}${PARAGRAPH_BREAK}${text}`]]);
    const result = reanchor(anchor, next);
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact', anchor: { chapterId: 'other', exact: anchor.exact } });
  });

  it('prefers the right chapter when a split shifted the index hint to the wrong one', () => {
    // Old chapter 2 is now at index 3 under a new id; index 2 holds a chapter that also
    // contains the short quote, with half of its context.
    const quote = 'the lantern';
    const oldText = `${join(CH[2]!.slice(0, 3))} She carried ${quote} down to the harbour at dawn.`;
    const start = oldText.indexOf(quote);
    const anchor = describeAnchor(oldText, 'ch2', start, start + quote.length);
    const next = [
      { id: 'n0', text: OLD.get('ch0')! },
      { id: 'n1', text: OLD.get('ch1')! },
      { id: 'n1b', text: `Nobody else carried ${quote} down to the harbour at dawn.` },
      { id: 'n2', text: oldText },
    ];
    const result = new RevisionMatcher(next).reanchor(anchor, { chapterIndex: 2 });
    expect(result).toMatchObject({ status: 'MOVED', method: 'exact', anchor: { chapterId: 'n2', start } });
  });

  it('treats a chapter edge as part of the context', () => {
    // "H|as the …": a one-letter prefix must not match every "Has the" in the book.
    const chapter = 'Has the mirror still the shape it had? Nobody knew.';
    const anchor = describeAnchor(chapter, 'old', 1, 7);
    const next = [
      { id: 'a', text: `${paragraph(rnd)} Has the river risen since the morning?` },
      { id: 'b', text: chapter },
    ];
    const result = new RevisionMatcher(next).reanchor(anchor, { chapterIndex: 0 });
    expect(result).toMatchObject({ status: 'MOVED', anchor: { chapterId: 'b', start: 1, end: 7 } });
  });

  it('does not look in other chapters when told not to', () => {
    const next = new Map([['renamed', OLD.get('ch1')!]]);
    const result = reanchor(highlightIn(1, 3), next, { searchOtherChapters: false });
    expect(result).toMatchObject({ status: 'ORPHANED', reason: 'NOT_FOUND' });
  });

  it('rejects duplicate chapter ids and bad options, naming the field', () => {
    const dup = [
      { id: 'a', text: 'x' },
      { id: 'a', text: 'y' },
    ];
    expect(() => new RevisionMatcher(dup)).toThrow(FolioError);
    try {
      new RevisionMatcher(OLD, { minScore: 2 });
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'minScore' } });
    }
    expect(() => new RevisionMatcher(OLD, { bogus: 1 } as never)).toThrow(FolioError);
  });
});
