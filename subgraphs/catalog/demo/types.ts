import type { BookSource } from '../epub/build.js';

/** A demo book: the EPUB source plus a URL-safe slug that names it in fixtures and seeds. */
export interface DemoBook extends BookSource {
  readonly slug: string;
}
