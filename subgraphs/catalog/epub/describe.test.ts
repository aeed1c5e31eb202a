import { describe, expect, it } from 'vitest';
import { describeBook } from './describe.js';
import { buildEpub } from './build.js';
import { parseEpub } from './parse.js';

const MARKDOWN = `---
authors: Ann Author, Bo Writer
language: en
subjects: Sea, Boats
---
# The Small Harbour

## Morning
The boats left
before the gulls woke.

Nobody said a word.

## Evening
The nets were mended.
`;

describe('describeBook', () => {
  it('reads Markdown with front matter into chapters of paragraphs that build and parse back', async () => {
    const book = describeBook(MARKDOWN, 'markdown');
    expect(book).toMatchObject({
      title: 'The Small Harbour',
      authors: ['Ann Author', 'Bo Writer'],
      subjects: ['Sea', 'Boats'],
      chapters: [
        { title: 'Morning', paragraphs: ['The boats left before the gulls woke.', 'Nobody said a word.'] },
        { title: 'Evening', paragraphs: ['The nets were mended.'] },
      ],
    });
    const parsed = await parseEpub(await buildEpub(book));
    expect(parsed.metadata.title).toBe('The Small Harbour');
    expect(parsed.chapters.map((c) => c.title)).toEqual(['Morning', 'Evening']);
  });

  it('reads JSON and names the bad field when a description is wrong', () => {
    expect(describeBook(JSON.stringify({ title: 'T', chapters: [{ title: 'C', paragraphs: ['p'] }] }), 'json').language).toBe('en');
    expect(() => describeBook(JSON.stringify({ title: 'T', chapters: [] }), 'json')).toThrow(/^chapters: a book needs at least one chapter/);
    expect(() => describeBook(JSON.stringify({ title: 'T', language: 'not a tag!', chapters: [{ title: 'C', paragraphs: ['p'] }] }), 'json')).toThrow(/^language:/);
    expect(() => describeBook('# T\n\nloose text\n', 'markdown')).toThrow(/before the first "## Chapter"/);
  });
});
