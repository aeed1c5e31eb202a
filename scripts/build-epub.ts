/**
 * `npm run epub:build -- <book.md|book.json> [out.epub]`: writes an EPUB from a description (see
 * subgraphs/catalog/epub/describe.ts for the format), ready for `npm run ingest` or an upload.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { describeBook } from '../subgraphs/catalog/epub/describe.js';

async function main(argv: string[]): Promise<number> {
  const [input, output = input && `${basename(input, extname(input))}.epub`] = argv.filter((a) => a !== '--');
  if (!input || !output) {
    process.stderr.write('usage: npm run epub:build -- <book.md|book.json> [out.epub]\n');
    return 2;
  }
  try {
    const book = describeBook(await readFile(input, 'utf8'), extname(input).toLowerCase() === '.json' ? 'json' : 'markdown');
    const epub = await buildEpub(book);
    await writeFile(output, epub);
    const paragraphs = book.chapters.reduce((n, c) => n + c.paragraphs.length, 0);
    process.stdout.write(`✓ ${output}: "${book.title}", ${book.chapters.length} chapters, ${paragraphs} paragraphs, ${epub.length} bytes\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`✗ ${input}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
