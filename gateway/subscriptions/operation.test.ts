import { describe, expect, it } from 'vitest';
import { prepareSubscription } from './operation.js';

const opts = { maxTokens: 1000, maxBytes: 10_000 };

describe('prepareSubscription', () => {
  it('rewrites the root field to its per-event query, keeping alias, arguments, selection and fragments', () => {
    const prepared = prepareSubscription(
      { query: 'subscription S($b: ID) { mine: myAnnotationsChanged(bookId: $b) { ...F book { title } } } fragment F on AnnotationChange { id op }', variables: { b: 'book-1' } },
      opts,
    );
    expect(prepared.fieldName).toBe('myAnnotationsChanged');
    expect(prepared.args).toEqual({ bookId: 'book-1' });
    expect(prepared.query.replace(/\s+/g, ' ')).toBe(
      'query S($b: ID, $folioSyncSeq: ID!) { mine: annotationChange(bookId: $b, seq: $folioSyncSeq) { ...F book { title } } } fragment F on AnnotationChange { id op }',
    );
    expect(prepared.field.matches!({ bookId: 'book-1' }, prepared.args)).toBe(true);
    expect(prepared.field.matches!({ bookId: 'book-2' }, prepared.args)).toBe(false);
  });

  it('keeps the response key of an unaliased field', () => {
    const { query } = prepareSubscription({ query: 'subscription { readingProgressChanged { deviceId } }' }, opts);
    expect(query).toContain('readingProgressChanged: readingProgressChange(seq: $folioSyncSeq)');
  });

  it('enforces the token limit and the document size', () => {
    const big = `subscription { readingProgressChanged { ${'deviceId '.repeat(2000)} } }`;
    expect(() => prepareSubscription({ query: big }, opts)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => prepareSubscription({ query: big }, { maxTokens: 1000, maxBytes: 1 << 20 })).toThrow(expect.objectContaining({ code: 'OPERATION_LIMIT_EXCEEDED' }));
  });

  it('takes `after` off the per-event query (with its variable when only it used it) and keeps it as the cursor', () => {
    const byVariable = prepareSubscription({ query: 'subscription S($c: ID, $b: ID) { myAnnotationsChanged(bookId: $b, after: $c) { id } }', variables: { c: '42', b: 'b1' } }, opts);
    expect(byVariable.after).toBe('42');
    expect(byVariable.variables).toEqual({ b: 'b1' });
    expect(byVariable.query.replace(/\s+/g, ' ')).toBe('query S($b: ID, $folioSyncSeq: ID!) { myAnnotationsChanged: annotationChange(bookId: $b, seq: $folioSyncSeq) { id } }');
    const literal = prepareSubscription({ query: 'subscription { shelfChanged(after: 7) { op } }' }, opts);
    expect(literal.after).toBe('7');
    expect(literal.query).toContain('shelfChanged: shelfChange(seq: $folioSyncSeq)');
    expect(prepareSubscription({ query: 'subscription { shelfChanged { op } }' }, opts).after).toBeUndefined();
    expect(prepareSubscription({ query: 'subscription($c: ID) { shelfChanged(after: $c) { op } }', variables: {} }, opts).after).toBeUndefined();
    for (const bad of ['-1', 'x', '01', '1.5']) {
      expect(() => prepareSubscription({ query: `subscription { shelfChanged(after: "${bad}") { op } }` }, opts)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });
});
