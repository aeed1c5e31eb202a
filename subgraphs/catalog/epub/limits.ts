/**
 * Bounds applied to every EPUB. An upload is hostile until parsed: each bound below stops one
 * way a small file can cost a lot of memory or time. Defaults fit real trade books (a long
 * novel is 1–5 MB zipped, under 10 MB of XHTML) with a wide margin.
 */
export interface EpubLimits {
  /** Size of the uploaded .epub file itself. @default 50 MiB */
  readonly maxCompressedBytes: number;
  /** Sum of the inflated bytes of every entry actually read. @default 200 MiB */
  readonly maxUncompressedBytes: number;
  /** Inflated bytes of any one entry. @default 32 MiB */
  readonly maxEntryBytes: number;
  /**
   * Inflated/compressed ratio of one entry, checked while inflating once an entry passes
   * `ratioCheckMinBytes`. Prose deflates about 3:1 and repetitive XHTML under 20:1; a zip
   * bomb of zeros reaches 1000:1. @default 100
   */
  readonly maxCompressionRatio: number;
  /** Entries smaller than this are never judged by ratio (tiny files compress oddly). @default 1 MiB */
  readonly ratioCheckMinBytes: number;
  /** Entries in the zip's central directory, directories included. @default 2000 */
  readonly maxEntries: number;
  /** Any one XML file (container.xml, OPF, NCX, nav). @default 4 MiB */
  readonly maxXmlBytes: number;
  /** Spine items (chapters) in one book. @default 2000 */
  readonly maxChapters: number;
  /** Paragraphs in the whole book. @default 500000 */
  readonly maxParagraphs: number;
  /**
   * Longest paragraph kept whole, in UTF-16 code units; longer blocks (a runaway <pre>, a
   * book without <p>) are split at sentence or word boundaries, never refused. @default 10000
   */
  readonly maxParagraphChars: number;
  /** A larger cover image is ignored (the book still parses). @default 10 MiB */
  readonly maxCoverBytes: number;
  /**
   * Characters of text (UTF-16 code units) in one chapter. A single-file novel is one chapter of
   * 3–6 million characters, so this is sized for the longest real ones. @default 8 Mi (8,388,608)
   */
  readonly maxChapterTextChars: number;
  /** Characters of text in the whole book: twenty long novels. @default 64 Mi (67,108,864) */
  readonly maxBookTextChars: number;
  /**
   * Paragraphs in one chapter: a chapter's paragraph offsets live in its stored document, which
   * MongoDB caps at 16 MB (about 50 bytes a paragraph). @default 100000
   */
  readonly maxChapterParagraphs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_EPUB_LIMITS: EpubLimits = Object.freeze({
  maxCompressedBytes: 50 * MiB,
  maxUncompressedBytes: 200 * MiB,
  maxEntryBytes: 32 * MiB,
  maxCompressionRatio: 100,
  ratioCheckMinBytes: 1 * MiB,
  maxEntries: 2000,
  maxXmlBytes: 4 * MiB,
  maxChapters: 2000,
  maxParagraphs: 500_000,
  maxParagraphChars: 10_000,
  maxCoverBytes: 10 * MiB,
  maxChapterTextChars: 8 * MiB,
  maxBookTextChars: 64 * MiB,
  maxChapterParagraphs: 100_000,
});

/**
 * Fills defaults and validates. Limits come from code or config, not from users, so a bad one
 * is a programming error (RangeError naming the field), not a BAD_USER_INPUT.
 */
export function resolveEpubLimits(overrides: Partial<EpubLimits> = {}): EpubLimits {
  const limits: EpubLimits = { ...DEFAULT_EPUB_LIMITS };
  for (const key of Object.keys(overrides) as Array<keyof EpubLimits>) {
    if (!Object.hasOwn(DEFAULT_EPUB_LIMITS, key)) throw new RangeError(`Unknown EPUB limit "${key}".`);
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`EPUB limit "${key}" must be a positive integer, got ${String(value)}.`);
    }
    (limits as Record<keyof EpubLimits, number>)[key] = value;
  }
  return Object.freeze(limits);
}
