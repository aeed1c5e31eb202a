/**
 * Private to the EPUB pipeline: chapter XHTML → plain paragraphs, and → sanitized HTML.
 *
 * htmlparser2 in HTML mode (not XML mode) on purpose: real EPUBs ship broken XHTML (unclosed
 * tags, stray `<`, HTML entities like &nbsp; without a DTD), and a browser-style parser reads
 * them the way a reading system would instead of refusing the book.
 */
import { Parser } from 'htmlparser2';
import sanitizeHtml from 'sanitize-html';
import { normalizeWhitespace, stripControlCharacters } from './text.js';

/** Elements whose boundaries separate paragraphs. */
const BLOCK_TAGS = new Set([
  'p', 'div', 'li', 'ul', 'ol', 'dl', 'dt', 'dd', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre',
  'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption', 'section', 'article', 'aside', 'header',
  'footer', 'nav', 'main', 'figure', 'figcaption', 'address', 'hr', 'body', 'center', 'details', 'summary',
]);

/** Elements whose content is never reading text (rt/rp: ruby annotations such as pinyin). */
const SKIPPED_TAGS = new Set([
  'head', 'title', 'script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed',
  'textarea', 'select', 'button', 'rt', 'rp',
]);

const HEADING = /^h[1-6]$/;

const PARSER_OPTIONS = {
  decodeEntities: true,
  lowerCaseTags: true,
  lowerCaseAttributeNames: true,
  recognizeSelfClosing: true,
  recognizeCDATA: true,
} as const;

export interface ExtractedText {
  /** Non-empty, whitespace-normalised text blocks in document order. */
  readonly blocks: string[];
  /** Text of the first non-empty h1–h6, if any. */
  readonly firstHeading: string | undefined;
}

export function extractText(xhtml: string): ExtractedText {
  const blocks: string[] = [];
  let buffer: string[] = [];
  let skipDepth = 0;
  let headingDepth = 0;
  let heading: string[] = [];
  let firstHeading: string | undefined;

  const flush = (): void => {
    if (buffer.length === 0) return;
    // Character references (`&#1;`) can spell what decodeText removed from the bytes.
    const text = stripControlCharacters(normalizeWhitespace(buffer.join('')));
    buffer = [];
    if (text) blocks.push(text);
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED_TAGS.has(name)) skipDepth += 1;
        if (skipDepth > 0) return;
        if (BLOCK_TAGS.has(name)) flush();
        else if (name === 'br') buffer.push(' ');
        if (HEADING.test(name)) headingDepth += 1;
      },
      onclosetag(name) {
        if (SKIPPED_TAGS.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth > 0) return;
        if (BLOCK_TAGS.has(name)) flush();
        if (HEADING.test(name) && headingDepth > 0 && --headingDepth === 0) {
          const text = stripControlCharacters(normalizeWhitespace(heading.join('')));
          heading = [];
          if (text && firstHeading === undefined) firstHeading = text;
        }
      },
      ontext(text) {
        if (skipDepth > 0) return;
        buffer.push(text);
        if (headingDepth > 0 && firstHeading === undefined) heading.push(text);
      },
    },
    PARSER_OPTIONS,
  );
  parser.write(xhtml);
  parser.end();
  flush();
  return { blocks, firstHeading };
}

/**
 * Basic formatting only. No scripts, event handlers, styles, classes or ids; links only to
 * http(s)/mailto or relative targets; no images or other tags that would fetch a resource
 * (internal images need rewriting to storage URLs first: see README, known gaps).
 */
const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'div', 'span', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'em',
    'strong', 'i', 'b', 'u', 's', 'sub', 'sup', 'small', 'mark', 'q', 'cite', 'abbr', 'ul', 'ol', 'li', 'dl',
    'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'figure', 'figcaption', 'a',
    'ruby', 'rt', 'rp', 'section', 'article', 'aside', 'header', 'footer',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan', 'scope'],
    ol: ['start'],
    '*': ['lang', 'dir'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: {},
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: [...SKIPPED_TAGS].filter((tag) => tag !== 'rt' && tag !== 'rp'),
  parseStyleAttributes: false,
  parser: PARSER_OPTIONS,
};

export function sanitizeChapterHtml(xhtml: string): string {
  return stripControlCharacters(sanitizeHtml(xhtml, SANITIZE_OPTIONS)).trim();
}

/** Plain text of an HTML fragment (OPF descriptions often hold escaped HTML). */
export function htmlToPlainText(html: string): string {
  return extractText(html).blocks.join('\n\n');
}
