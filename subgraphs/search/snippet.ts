/** Highlighted snippets: matched terms wrapped in <mark>, everything else HTML-escaped. */

const MAX_TERMS = 32;
const MAX_TERM_LENGTH = 64;

const escapeHtml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One case-insensitive pattern for all terms, longest first so "lighthouse" wins over "light". */
function termPattern(terms: readonly string[]): RegExp | null {
  const usable = [...new Set(terms.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= MAX_TERM_LENGTH))]
    .sort((a, b) => b.length - a.length)
    .slice(0, MAX_TERMS);
  return usable.length > 0 ? new RegExp(usable.map(escapeRegex).join('|'), 'giu') : null;
}

/** Spans of `text` that match any term, in order, non-overlapping. */
export function matchSpans(text: string, terms: readonly string[]): Array<[number, number]> {
  const pattern = termPattern(terms);
  if (!pattern) return [];
  const spans: Array<[number, number]> = [];
  for (const m of text.matchAll(pattern)) {
    if (m[0].length === 0) continue;
    spans.push([m.index, m.index + m[0].length]);
    if (spans.length >= 1_000) break;
  }
  return spans;
}

/** The whole text, escaped, with matched terms marked. */
export function highlight(text: string, terms: readonly string[]): string {
  return markSpans(text, matchSpans(text, terms), 0, text.length);
}

function markSpans(text: string, spans: ReadonlyArray<[number, number]>, from: number, to: number): string {
  let out = '';
  let at = from;
  for (const [s, e] of spans) {
    if (e <= from || s >= to) continue;
    const start = Math.max(s, at);
    const end = Math.min(e, to);
    if (start >= end) continue;
    out += escapeHtml(text.slice(at, start)) + '<mark>' + escapeHtml(text.slice(start, end)) + '</mark>';
    at = end;
  }
  return out + escapeHtml(text.slice(at, to));
}

/**
 * A window of about `maxChars` around the first match (the start of the text when nothing
 * matches), marked, with an ellipsis where text was cut.
 */
export function snippet(text: string, terms: readonly string[], maxChars = 240): string {
  const spans = matchSpans(text, terms);
  if (text.length <= maxChars) return markSpans(text, spans, 0, text.length);
  const first = spans[0]?.[0] ?? 0;
  let from = Math.max(0, first - Math.floor(maxChars / 3));
  const to = Math.min(text.length, from + maxChars);
  from = Math.max(0, to - maxChars);
  return (from > 0 ? '…' : '') + markSpans(text, spans, from, to) + (to < text.length ? '…' : '');
}
