import { describe, expect, it } from 'vitest';
import { describeAnchor } from './describe.js';
import { PARAGRAPH_BREAK, paragraph, seededRandom, type Language } from '../../../test/kit/anchoringFixtures.js';
import { RevisionMatcher } from './reanchor.js';

/** Edits stay this far from the highlight: beyond its stored context (32) with room to spare. */
const MARGIN = 64;

/**
 * Applies `count` random edits (insert a paragraph, delete a span, replace a span) that keep
 * MARGIN away from `[start, end)`, and returns the new text and the highlight's new start.
 */
function editFarFrom(text: string, start: number, end: number, count: number, rnd: () => number, language: Language) {
  let hStart = start;
  let hEnd = end;
  for (let i = 0; i < count; i += 1) {
    const kind = Math.floor(rnd() * 3);
    const at = Math.floor(rnd() * (text.length + 1));
    const length = kind === 0 ? 0 : 1 + Math.floor(rnd() * 200);
    const from = Math.min(at, text.length);
    const to = Math.min(text.length, from + length);
    if (!(to <= hStart - MARGIN || from >= hEnd + MARGIN)) continue; // too close: skip this edit
    const insert = kind === 1 ? '' : kind === 0 ? paragraph(rnd, language) + PARAGRAPH_BREAK : paragraph(rnd, language).slice(0, 80);
    text = text.slice(0, from) + insert + text.slice(to);
    if (to <= hStart) {
      const delta = insert.length - (to - from);
      hStart += delta;
      hEnd += delta;
    }
  }
  return { text, start: hStart };
}

describe('reanchor property: edits far from a highlight never disturb it', () => {
  for (const language of ['en', 'zh'] as const) {
    it(`re-anchors to the same text at the tracked position (${language}, 150 random cases)`, () => {
      const rnd = seededRandom(language === 'en' ? 101 : 202);
      let moved = 0;
      for (let run = 0; run < 150; run += 1) {
        const old = Array.from({ length: 15 }, () => paragraph(rnd, language)).join(PARAGRAPH_BREAK);
        const length = 1 + Math.floor(rnd() * (rnd() < 0.2 ? 600 : 80));
        const rawStart = Math.floor(rnd() * (old.length - length));
        const anchor = (() => {
          try {
            return describeAnchor(old, 'ch', rawStart, rawStart + length);
          } catch {
            return null; // a whitespace-only selection: rejected by design, not this property
          }
        })();
        if (anchor === null) continue;
        const edited = editFarFrom(old, anchor.start, anchor.end, 1 + Math.floor(rnd() * 6), rnd, language);
        const result = new RevisionMatcher(new Map([['ch', edited.text]])).reanchor(anchor);
        const context = { run, anchor, result };
        expect(result.status, JSON.stringify(context)).not.toBe('ORPHANED');
        if (result.status === 'ORPHANED') continue;
        expect(edited.text.slice(result.anchor.start, result.anchor.end), JSON.stringify(context)).toBe(anchor.exact);
        expect(result.anchor.start, JSON.stringify(context)).toBe(edited.start);
        if (result.status === 'MOVED') moved += 1;
      }
      // Most cases must really have moved the highlight, or the property proves little.
      expect(moved).toBeGreaterThan(75);
    });
  }
});
