/**
 * A book described in JSON or Markdown → a BookSource for buildEpub: the newcomer's way to make a
 * test EPUB (`npm run epub:build`). Markdown: optional front matter (`key: value` lines between
 * `---` fences: title, authors (comma-separated), language, description, isbn, publisher,
 * subjects), `# Title`, then `## Chapter title` sections whose blank-line-separated blocks are
 * paragraphs. JSON: the BookSource shape itself.
 */
import { z } from 'zod';
import type { BookSource } from './build.js';

const text = (max: number) => z.string().trim().min(1).max(max);

const BookSchema = z.object({
  title: text(1000),
  authors: z.array(text(300)).max(50).default([]),
  language: z.string().trim().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 tag such as en or zh-CN').default('en'),
  description: text(20_000).optional(),
  isbn: text(20).optional(),
  publisher: text(300).optional(),
  subjects: z.array(text(200)).max(50).optional(),
  chapters: z
    .array(z.object({ title: text(500), paragraphs: z.array(text(100_000)).min(1).max(100_000) }))
    .min(1, 'a book needs at least one chapter')
    .max(2000),
});

/** Parses a description; throws an Error whose message names the bad field. */
export function describeBook(source: string, format: 'json' | 'markdown'): BookSource {
  const raw = format === 'json' ? JSON.parse(source) : fromMarkdown(source);
  const parsed = BookSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'book'}: ${issue.message}`);
  }
  return parsed.data;
}

function fromMarkdown(source: string): Record<string, unknown> {
  const book: Record<string, unknown> = {};
  let body = source.replace(/\r\n?/g, '\n');
  const front = /^---\n([\s\S]*?)\n---\n/.exec(body);
  if (front) {
    for (const line of front[1]!.split('\n')) {
      const match = /^\s*([a-z]+)\s*:\s*(.*)$/i.exec(line);
      if (!match) continue;
      const [, key, value] = match as unknown as [string, string, string];
      book[key] = key === 'authors' || key === 'subjects' ? value.split(',').map((v) => v.trim()).filter(Boolean) : value.trim();
    }
    body = body.slice(front[0].length);
  }
  const chapters: Array<{ title: string; paragraphs: string[] }> = [];
  let lines: string[] = [];
  const endParagraph = (): void => {
    const paragraph = lines.join(' ').trim();
    lines = [];
    if (!paragraph) return;
    if (chapters.length === 0) throw new Error('chapters: text before the first "## Chapter" heading');
    chapters.at(-1)!.paragraphs.push(paragraph);
  };
  for (const line of body.split('\n')) {
    const heading = /^(#{1,2})\s+(.+)$/.exec(line.trim());
    if (heading || !line.trim()) endParagraph();
    if (heading?.[1] === '#') book.title ??= heading[2]!.trim();
    else if (heading) chapters.push({ title: heading[2]!.trim(), paragraphs: [] });
    else if (line.trim()) lines.push(line.trim());
  }
  endParagraph();
  book.chapters = chapters;
  return book;
}
