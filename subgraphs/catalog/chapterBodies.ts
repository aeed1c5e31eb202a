/**
 * Long chapters across several documents. A single-file novel is one chapter of millions of
 * characters, and a MongoDB document holds at most 16 MB, so a chapter's `text` and `html` keep
 * their first PART_CHARS characters in the chapter document and continue in `chapter_parts`.
 * Readers of chapters never see the split: every full read goes through `withBodies`.
 */
import type { CatalogStore, ChapterDoc, ChapterPartDoc } from './store.js';

/**
 * 1 Mi UTF-16 code units is at most 3 MiB of UTF-8 (4 bytes per surrogate pair of 2 units, 3 per
 * CJK character), so text + html + paragraph offsets stay well under 16 MB.
 */
export const PART_CHARS = 1024 * 1024;

/** Cuts `value` into pieces of at most `size` code units, never between a surrogate pair. */
export function cutIntoParts(value: string, size = PART_CHARS): string[] {
  const parts: string[] = [];
  let from = 0;
  while (value.length - from > size) {
    let to = from + size;
    const last = value.charCodeAt(to - 1);
    if (last >= 0xd800 && last <= 0xdbff) to -= 1;
    parts.push(value.slice(from, to));
    from = to;
  }
  parts.push(value.slice(from));
  return parts;
}

/** The chapter document to store (first parts inline) and the continuation documents. */
export function splitChapter(chapter: ChapterDoc, size = PART_CHARS): { chapter: ChapterDoc; parts: ChapterPartDoc[] } {
  const text = cutIntoParts(chapter.text, size);
  const html = cutIntoParts(chapter.html, size);
  if (text.length === 1 && html.length === 1) return { chapter, parts: [] };
  const rest = (field: 'text' | 'html', pieces: string[]): ChapterPartDoc[] =>
    pieces.slice(1).map((value, i) => ({ _id: `${chapter._id}:${field}:${i + 1}`, chapterId: chapter._id, revisionId: chapter.revisionId, field, n: i + 1, value }));
  return {
    chapter: { ...chapter, text: text[0]!, html: html[0]!, overflow: { textParts: text.length - 1, htmlParts: html.length - 1 } },
    parts: [...rest('text', text), ...rest('html', html)],
  };
}

/**
 * Chapters as read from the store, with any continued text and HTML joined back (one query for
 * all). `fields`: which bodies the documents were read with (a read without HTML joins text only).
 */
export async function withBodies<D extends Omit<ChapterDoc, 'html'> & { html?: string }>(
  store: Pick<CatalogStore, 'chapterParts'>,
  docs: D[],
  fields: ReadonlyArray<'text' | 'html'> = ['text', 'html'],
): Promise<D[]> {
  const long = docs.filter((doc) => doc.overflow);
  if (long.length === 0) return docs;
  const parts = await store.chapterParts
    .find({ chapterId: { $in: long.map((doc) => doc._id) }, field: { $in: [...fields] } })
    .sort({ chapterId: 1, field: 1, n: 1 })
    .toArray();
  const byChapter = new Map<string, Record<'text' | 'html', string[]>>();
  for (const part of parts) {
    let entry = byChapter.get(part.chapterId);
    if (!entry) byChapter.set(part.chapterId, (entry = { text: [], html: [] }));
    entry[part.field].push(part.value);
  }
  return docs.map((doc) => {
    if (!doc.overflow) return doc;
    const entry = byChapter.get(doc._id) ?? { text: [], html: [] };
    const joined: D = { ...doc };
    delete joined.overflow;
    for (const field of fields) {
      const expected = field === 'text' ? doc.overflow.textParts : doc.overflow.htmlParts;
      if (entry[field].length !== expected) throw new Error(`chapter ${doc._id} is missing parts of its ${field}`);
      joined[field] = (doc[field] ?? '') + entry[field].join('');
    }
    return joined;
  });
}
