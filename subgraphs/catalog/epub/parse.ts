/**
 * EPUB → chapters of plain paragraphs with stable offsets, sanitized HTML and metadata.
 * Pure: bytes in, data out; no storage, no GraphQL. See README.md for the contract.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { EpubError } from './errors.js';
import { resolveEpubLimits } from './limits.js';
import type { EpubLimits } from './limits.js';
import { titlesFromNav, titlesFromNcx } from './nav.js';
import type { TocTitles } from './nav.js';
import { parseContainer, parseOpf } from './opf.js';
import type { EpubMetadata, ManifestItem, PackageDocument } from './opf.js';
import { countWords, decodeText, looksBinary, sha256Hex, splitLongParagraph } from './text.js';
import { WarningList, type EpubWarning } from './warnings.js';
import { assertNoEntityDeclarations, attr, child, children, parseXml } from './xml.js';
import { extractText, sanitizeChapterHtml } from './xhtml.js';
import { openZip } from './zip.js';
import type { ZipArchive } from './zip.js';

export type { EpubMetadata } from './opf.js';
export type { EpubWarning } from './warnings.js';

/**
 * The stages of one parse, in order, for job progress:
 * FORMATTING — open the zip and read container, OPF and TOC (structure and metadata);
 * PARSING — read each spine document into text blocks and sanitized HTML;
 * SPLITTING — cut blocks into paragraphs with offsets, count words, hash.
 */
export const EPUB_STAGES = ['FORMATTING', 'PARSING', 'SPLITTING'] as const;
export type EpubStage = (typeof EPUB_STAGES)[number];

export interface ParsedParagraph {
  /** 0-based position within the chapter. */
  readonly index: number;
  readonly text: string;
  /** UTF-16 offsets into the chapter's `text`: `text.slice(startOffset, endOffset) === paragraph.text`. */
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface ParsedChapter {
  /** 0-based position among the chapters kept (spine items without text are skipped). */
  readonly index: number;
  /** From the nav document, else the NCX, else the first heading, else "Chapter N" (N = index + 1). */
  readonly title: string;
  /** Zip path of the chapter's XHTML file, e.g. "OEBPS/chapter-001.xhtml". */
  readonly href: string;
  /** Paragraph texts joined with "\n\n". */
  readonly text: string;
  /** Sanitized HTML of the chapter body: basic formatting only, safe to render. */
  readonly html: string;
  readonly paragraphs: ParsedParagraph[];
  readonly wordCount: number;
  /** sha256 (hex) of `text`: equal text, equal hash, so unchanged chapters are recognisable. */
  readonly contentHash: string;
}

export interface ParsedEpub {
  readonly metadata: EpubMetadata;
  readonly chapters: ParsedChapter[];
  readonly wordCount: number;
  /** sha256 (hex) over every chapter's title and contentHash, in order. */
  readonly contentHash: string;
  readonly coverImage?: { readonly mediaType: string; readonly bytes: Buffer };
  /** What was skipped or doubted (a chapter that could not be read, a wrong mimetype): tell the editor. */
  readonly warnings: EpubWarning[];
}

export interface ParseEpubOptions {
  /** Called as each stage starts; awaited, so a caller may record it durably. */
  readonly onStage?: (stage: EpubStage) => void | Promise<void>;
}

const HTML_TYPES = new Set(['application/xhtml+xml', 'text/html']);

interface RawChapter {
  readonly href: string;
  readonly blocks: string[];
  readonly firstHeading: string | undefined;
  readonly html: string;
}

/**
 * Parses an EPUB 2 or 3 file. Throws EpubError (BAD_USER_INPUT with a `reason`) for any file it
 * refuses; limits default to DEFAULT_EPUB_LIMITS.
 */
export async function parseEpub(
  bytes: Buffer,
  limits: Partial<EpubLimits> = {},
  options: ParseEpubOptions = {},
): Promise<ParsedEpub> {
  const bounds = resolveEpubLimits(limits);
  const onStage = options.onStage ?? (() => undefined);

  await onStage('FORMATTING');
  const zip = await openZip(bytes, bounds);
  const warnings = new WarningList();
  try {
    await checkMimetype(zip, warnings);
    const pkg = await readPackage(zip, bounds);
    for (const warning of pkg.spineWarnings) warnings.add(warning.code, warning.message);
    const titles = await readTocTitles(zip, pkg, bounds);
    const coverImage = await readCover(zip, pkg, bounds, warnings);

    await onStage('PARSING');
    const raw = await readChapters(zip, pkg.spine, bounds, warnings);

    await onStage('SPLITTING');
    const chapters = splitChapters(raw, titles, bounds);
    if (chapters.length === 0) throw new EpubError('NO_CONTENT', 'The book has no chapter with any text.');
    return {
      metadata: pkg.metadata,
      chapters,
      wordCount: chapters.reduce((sum, chapter) => sum + chapter.wordCount, 0),
      contentHash: sha256Hex(...chapters.flatMap((chapter) => [chapter.title, chapter.contentHash])),
      ...(coverImage ? { coverImage } : {}),
      warnings: warnings.toArray(),
    };
  } finally {
    zip.close();
  }
}

async function readXmlEntry(zip: ZipArchive, name: string, bounds: EpubLimits): Promise<string> {
  return decodeText(await zip.read(name, bounds.maxXmlBytes));
}

const EPUB_MIMETYPE = 'application/epub+zip';

/** Reading systems are lenient about `mimetype`, and so are we, but the editor hears of it. */
async function checkMimetype(zip: ZipArchive, warnings: WarningList): Promise<void> {
  const name = zip.names.includes('mimetype') ? 'mimetype' : undefined;
  const value = name ? (await zip.read(name, 1024).catch(() => Buffer.alloc(0))).toString('latin1').trim() : undefined;
  if (value === EPUB_MIMETYPE) return;
  warnings.add(
    'BAD_MIMETYPE',
    value === undefined ? 'The file has no "mimetype" entry; it may not be an EPUB.' : `The "mimetype" entry says "${value.slice(0, 60)}", not "${EPUB_MIMETYPE}".`,
  );
}

async function readPackage(zip: ZipArchive, bounds: EpubLimits): Promise<PackageDocument> {
  const containerName = zip.resolve('META-INF/container.xml');
  if (!containerName) throw new EpubError('MISSING_CONTAINER', 'The EPUB has no META-INF/container.xml.');
  const opfPath = parseContainer(await readXmlEntry(zip, containerName, bounds));
  const opfName = zip.resolve(opfPath);
  if (!opfName) throw new EpubError('MISSING_OPF', `The package document "${opfPath}" named in container.xml is missing.`);
  const pkg = parseOpf(await readXmlEntry(zip, opfName, bounds), opfName);
  const spineLength = pkg.spine.length + pkg.spineWarnings.length;
  if (spineLength > bounds.maxChapters) {
    throw new EpubError('TOO_MANY_CHAPTERS', `The book has ${spineLength} spine items; the limit is ${bounds.maxChapters}.`);
  }
  await refuseDrm(zip, pkg, bounds);
  return pkg;
}

/** Optional files may be malformed (titles fall back); hostile ones (entities, bombs) still fail. */
async function lenient<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof EpubError && error.reason === 'BAD_XML') return fallback;
    throw error;
  }
}

/**
 * Font obfuscation also uses encryption.xml, so only encrypted spine documents mean DRM; such
 * a book would otherwise "parse" into ciphertext.
 */
async function refuseDrm(zip: ZipArchive, pkg: PackageDocument, bounds: EpubLimits): Promise<void> {
  const name = zip.resolve('META-INF/encryption.xml');
  if (!name) return;
  const uris = await lenient(async () => {
    const doc = parseXml(await readXmlEntry(zip, name, bounds), name);
    return children(child(doc, 'encryption'), 'EncryptedData').map((data) =>
      attr(child(child(data, 'CipherData'), 'CipherReference'), 'URI'),
    );
  }, []);
  const spinePaths = new Set(pkg.spine.map((item) => item.path));
  if (uris.some((uri) => uri !== undefined && spinePaths.has(decodeURIComponentSafe(uri)))) {
    throw new EpubError('ENCRYPTED', 'The book is protected by DRM; upload a DRM-free EPUB.');
  }
}

const decodeURIComponentSafe = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

async function readTocTitles(zip: ZipArchive, pkg: PackageDocument, bounds: EpubLimits): Promise<TocTitles> {
  for (const [item, read] of [
    [pkg.nav, titlesFromNav],
    [pkg.ncx, titlesFromNcx],
  ] as const) {
    const name = item && zip.resolve(item.path);
    if (!name) continue;
    const titles = await lenient(async () => {
      const text = await readXmlEntry(zip, name, bounds);
      assertNoEntityDeclarations(text, name);
      return read(text, name);
    }, new Map<string, string>());
    if (titles.size > 0) return titles;
  }
  return new Map();
}

async function readCover(zip: ZipArchive, pkg: PackageDocument, bounds: EpubLimits, warnings: WarningList): Promise<ParsedEpub['coverImage']> {
  const name = pkg.cover && zip.resolve(pkg.cover.path);
  if (!pkg.cover || !name) return undefined;
  try {
    return { mediaType: pkg.cover.mediaType, bytes: await zip.read(name, bounds.maxCoverBytes) };
  } catch (error) {
    // An oversized cover costs the book its cover, not its upload.
    if (error instanceof EpubError && error.reason === 'TOO_LARGE') {
      warnings.add('COVER_TOO_LARGE', `The cover image is larger than ${bounds.maxCoverBytes} bytes; the book has no cover.`);
      return undefined;
    }
    throw error;
  }
}

const isHtmlItem = (item: ManifestItem): boolean =>
  HTML_TYPES.has(item.mediaType) || /\.x?html?$/i.test(item.path);

async function readChapters(zip: ZipArchive, spine: ManifestItem[], bounds: EpubLimits, warnings: WarningList): Promise<RawChapter[]> {
  const chapters: RawChapter[] = [];
  const seen = new Set<string>();
  let blockCount = 0;
  let bookChars = 0;
  // Missing files and spine items that are not documents are skipped with a warning, not fatal:
  // store what can be read, and tell the editor what was not.
  for (const item of spine) {
    const name = zip.resolve(item.path);
    const label = `"${item.path.slice(0, 200)}"`;
    if (!name) {
      warnings.add('SPINE_MISSING_FILE', `The chapter file ${label} is not in the EPUB; it was skipped.`);
      continue;
    }
    if (seen.has(name)) {
      warnings.add('SPINE_DUPLICATE', `The chapter file ${label} is in the spine more than once; it was read once.`);
      continue;
    }
    seen.add(name);
    if (!isHtmlItem(item)) {
      warnings.add('SPINE_NOT_A_DOCUMENT', `The spine item ${label} is ${item.mediaType || 'of no declared type'}, not an XHTML document; it was skipped.`);
      continue;
    }
    const bytes = await zip.read(name);
    if (looksBinary(bytes)) {
      warnings.add('SPINE_NOT_A_DOCUMENT', `The chapter file ${label} holds binary data, not text; it was skipped.`);
      continue;
    }
    const xhtml = decodeText(bytes);
    assertNoEntityDeclarations(xhtml, name);
    const { blocks, firstHeading } = extractText(xhtml);
    if (blocks.length === 0) continue;
    blockCount += blocks.length;
    if (blockCount > bounds.maxParagraphs) throw tooManyParagraphs(bounds);
    // Checked here, before the HTML is sanitized and kept, so memory stays bounded by the limits.
    const chars = blocks.reduce((sum, block) => sum + block.length, PARAGRAPH_SEPARATOR.length * (blocks.length - 1));
    checkChapterText(chapters.length, firstHeading ?? name, chars, bounds);
    bookChars += chars;
    if (bookChars > bounds.maxBookTextChars) {
      throw new EpubError('BOOK_TOO_LARGE', `The book has more than ${formatCount(bounds.maxBookTextChars)} characters of text, the limit for one book.`);
    }
    chapters.push({ href: name, blocks, firstHeading, html: sanitizeChapterHtml(xhtml) });
    // Big books take seconds of CPU; let the rest of the process breathe between chapters.
    await yieldToEventLoop();
  }
  return chapters;
}

const formatCount = (n: number): string => n.toLocaleString('en-US');

function checkChapterText(index: number, title: string, chars: number, bounds: EpubLimits): void {
  if (chars <= bounds.maxChapterTextChars) return;
  throw new EpubError(
    'CHAPTER_TOO_LARGE',
    `Chapter ${index + 1} ("${title.slice(0, 80)}") has ${formatCount(chars)} characters of text; the limit is ${formatCount(bounds.maxChapterTextChars)} per chapter.`,
  );
}

const tooManyParagraphs = (bounds: EpubLimits): EpubError =>
  new EpubError('TOO_MANY_PARAGRAPHS', `The book has more than ${bounds.maxParagraphs} paragraphs.`);

function splitChapters(raw: RawChapter[], titles: TocTitles, bounds: EpubLimits): ParsedChapter[] {
  let paragraphTotal = 0;
  return raw.map((chapter, index) => {
    const texts = chapter.blocks.flatMap((block) =>
      block.length > bounds.maxParagraphChars ? splitLongParagraph(block, bounds.maxParagraphChars) : [block],
    );
    paragraphTotal += texts.length;
    if (paragraphTotal > bounds.maxParagraphs) throw tooManyParagraphs(bounds);
    const title = titles.get(chapter.href) ?? chapter.firstHeading?.slice(0, 500) ?? `Chapter ${index + 1}`;
    if (texts.length > bounds.maxChapterParagraphs) {
      throw new EpubError('CHAPTER_TOO_LARGE', `Chapter ${index + 1} ("${title.slice(0, 80)}") has ${formatCount(texts.length)} paragraphs; the limit is ${formatCount(bounds.maxChapterParagraphs)} per chapter.`);
    }
    const paragraphs = buildParagraphs(texts);
    const text = texts.join(PARAGRAPH_SEPARATOR);
    checkChapterText(index, title, text.length, bounds);
    return {
      index,
      title,
      href: chapter.href,
      text,
      html: chapter.html,
      paragraphs,
      wordCount: texts.reduce((sum, paragraph) => sum + countWords(paragraph), 0),
      contentHash: sha256Hex(text),
    };
  });
}

export const PARAGRAPH_SEPARATOR = '\n\n';

/** Offsets of `texts` joined with PARAGRAPH_SEPARATOR. */
export function buildParagraphs(texts: readonly string[]): ParsedParagraph[] {
  let offset = 0;
  return texts.map((text, index) => {
    const paragraph = { index, text, startOffset: offset, endOffset: offset + text.length };
    offset = paragraph.endOffset + PARAGRAPH_SEPARATOR.length;
    return paragraph;
  });
}
