import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../lib/pagination.js';
import { extractiveAnswer, focusOn, paragraphAt } from './answer.js';
import { foldBookEvents } from './reindex.js';
import { offsetAfter } from './service.js';

const event = (seq: number, type: string, payload: Record<string, unknown>) => ({ seq, type, payload, createdAt: '' });

describe('search rules', () => {
  it('round-trips cursors and refuses foreign or out-of-window ones', () => {
    expect(offsetAfter(encodeCursor([40]))).toBe(40);
    expect(offsetAfter(undefined)).toBe(0);
    for (const bad of ['x', encodeCursor([0]), encodeCursor([5_000]), encodeCursor([1.5]), encodeCursor(['40']), 'a'.repeat(400)]) {
      expect(() => offsetAfter(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('folds catalog events to each book\'s final revision', () => {
    const folded = foldBookEvents([
      event(1, 'BookPublished', { bookId: 'a', revisionId: 'r1' }),
      event(2, 'BookContentReplaced', { bookId: 'a', previousRevisionId: 'r1', revisionId: 'r2' }),
      event(3, 'BookPublished', { bookId: 'b', revisionId: 'r3' }),
      event(4, 'BookUnpublished', { bookId: 'b' }),
      event(5, 'BookLicenseChanged', { bookId: 'c' }),
    ]);
    expect([...folded]).toEqual([['a', 'r2'], ['b', null]]);
  });

  it('quotes the best sentence and cites the paragraph that holds it', () => {
    const passage = { bookId: 'b', chapterId: 'c', paragraphIds: ['p0', 'p1'], paragraphStarts: [0, 18], text: 'The lamp was lit.\nThe supply boat did not come for nineteen days.', score: 1 };
    expect(paragraphAt(passage, 25)).toBe('p1');
    const answer = extractiveAnswer([passage], ['boat', 'days']);
    expect(answer.citations).toEqual([expect.objectContaining({ paragraphId: 'p1', quote: 'The supply boat did not come for nineteen days.' })]);
    expect(answer.text).toContain('[1]');
    expect(extractiveAnswer([], []).citations).toEqual([]);
  });

  it('quotes the selected paragraph, not the first of its chunk, when a reader asks about a selection', () => {
    const pieces = ['The Harbour', 'Old Tomas mended nets on the quay every morning.', 'A keeper named Ingrid kept a logbook of every storm.'];
    const text = pieces.join('\n');
    const chunk = { bookId: 'b', chapterId: 'c', paragraphIds: ['c.p0', 'c.p1', 'c.p2'], paragraphStarts: pieces.map((p) => text.indexOf(p)), text, score: 1 };
    // Without focus, a question with no matching words quotes the chunk's first sentence: the heading.
    expect(extractiveAnswer([chunk], ['what']).citations[0]).toMatchObject({ paragraphId: 'c.p0', quote: 'The Harbour' });
    const focused = focusOn(chunk, 'c.p2');
    expect(extractiveAnswer([focused], ['what']).citations[0]).toMatchObject({ paragraphId: 'c.p2', quote: 'A keeper named Ingrid kept a logbook of every storm.' });
    expect(focusOn(chunk, 'c.p1').text).toBe('Old Tomas mended nets on the quay every morning.');
    expect(focusOn(chunk, 'elsewhere')).toBe(chunk);
  });
});
