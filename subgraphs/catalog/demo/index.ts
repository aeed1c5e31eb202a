/**
 * The demo library: six short original books (four English, two Chinese) with distinct
 * subjects so search results are meaningful, loaded on first start in development.
 */
import { buildEpub } from '../epub/build.js';
import { astronomyBook, beekeepingBook, drystoneBook, lighthouseBook } from './books.en.js';
import { silkwormBook, teaBook } from './books.zh.js';
import type { DemoBook } from './types.js';

export type { DemoBook } from './types.js';
export { generateSyntheticBook } from './synthetic.js';

export const demoBooks: readonly DemoBook[] = [lighthouseBook, beekeepingBook, teaBook, astronomyBook, silkwormBook, drystoneBook];

/** A demo book's catalog metadata: everything but the chapters. */
export type DemoBookMeta = Omit<DemoBook, 'chapters'>;

export interface DemoEpub {
  readonly slug: string;
  readonly epub: Buffer;
  readonly meta: DemoBookMeta;
}

/** Every demo book as EPUB bytes (deterministic: equal on every call and every machine). */
export async function buildDemoEpubs(): Promise<DemoEpub[]> {
  return Promise.all(
    demoBooks.map(async (book) => {
      const { chapters: _chapters, ...meta } = book;
      return { slug: book.slug, epub: await buildEpub(book), meta };
    }),
  );
}
