import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../lib/pagination.js';
import { extractiveAnswer, focusOn, paragraphAt, preferScriptOf, writtenInCjk } from './answer.js';
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
    // Without focus, a question with no matching words quotes the chunk's first sentence that is not its heading.
    expect(extractiveAnswer([chunk], ['what']).citations[0]).toMatchObject({ paragraphId: 'c.p1', quote: 'Old Tomas mended nets on the quay every morning.' });
    const focused = focusOn(chunk, 'c.p2');
    expect(extractiveAnswer([focused], ['what']).citations[0]).toMatchObject({ paragraphId: 'c.p2', quote: 'A keeper named Ingrid kept a logbook of every storm.' });
    expect(focusOn(chunk, 'c.p1').text).toBe('Old Tomas mended nets on the quay every morning.');
    expect(focusOn(chunk, 'elsewhere')).toBe(chunk);
  });

  it('never quotes a chapter heading, even one that matches the question best', () => {
    const chunkOf = (pieces: string[], id: string) => {
      const text = pieces.join('\n\n');
      return { bookId: 'b', chapterId: id, paragraphIds: pieces.map((_, i) => `${id}.p${i}`), paragraphStarts: pieces.map((p) => text.indexOf(p)), text, score: 1 };
    };
    const english = chunkOf(['Arrival', 'The ferry reached the island at dusk.'], 'en');
    expect(extractiveAnswer([english], ['arrival']).citations.map((c) => c.quote)).toEqual(['The ferry reached the island at dusk.']);
    const chinese = chunkOf(['一 雾里的村子', '村子在雾里醒来，茶园还没有人。'], 'zh');
    expect(extractiveAnswer([chinese], ['雾里', '村子']).citations.map((c) => c.quote)).toEqual(['村子在雾里醒来，茶园还没有人。']);
    // A passage that is nothing but a heading is no answer at all.
    const headingOnly = chunkOf(['Chapter Three'], 'h');
    expect(extractiveAnswer([headingOnly, english], ['chapter']).citations.map((c) => c.chapterId)).toEqual(['en']);
  });

  it('puts passages in the question\'s script first when no book is chosen', () => {
    expect(writtenInCjk('茶是怎么做的？')).toBe(true);
    expect(writtenInCjk('How is tea made?')).toBe(false);
    const hits = [{ id: 1, lang: 'en' }, { id: 2, lang: 'zh' }, { id: 3, lang: 'en' }, { id: 4, lang: 'zh' }];
    expect(preferScriptOf('茶是怎么做的？', hits, (h) => h.lang).map((h) => h.id)).toEqual([2, 4, 1, 3]);
    expect(preferScriptOf('How is tea made?', hits, (h) => h.lang).map((h) => h.id)).toEqual([1, 3, 2, 4]);
  });
});
