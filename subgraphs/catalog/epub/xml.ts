/** Private to the EPUB pipeline: the one place OPF, NCX and container.xml are parsed. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EpubError } from './errors.js';

/**
 * Entity declarations are refused outright, before any parser sees them: EPUB metadata never
 * needs them, and they are how XXE (external entities) and billion-laughs (nested expansion)
 * attacks start. fast-xml-parser neither fetches external entities nor expands without caps,
 * but refusing is simpler to reason about than trusting caps. Also used on XHTML chapters.
 */
export function assertNoEntityDeclarations(text: string, file: string): void {
  if (/<!ENTITY/i.test(text)) {
    throw new EpubError('XML_ENTITIES', `"${file}" declares XML entities, which EPUB files must not use.`);
  }
}

// Elements that may repeat are always arrays, so callers never guess between T and T[].
const REPEATED = new Set([
  'rootfile', 'item', 'itemref', 'meta', 'title', 'creator', 'contributor', 'subject', 'identifier',
  'language', 'description', 'publisher', 'navPoint', 'reference', 'EncryptedData',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: false,
  // Only the five predefined XML entities and character references remain after the check
  // above; the caps are a second line of defence.
  processEntities: { enabled: true, maxEntityCount: 0, maxEntitySize: 1, maxExpandedLength: 1 << 20 },
  isArray: (name) => REPEATED.has(name),
});

export type XmlNode = Record<string, unknown>;

export function parseXml(text: string, file: string): XmlNode {
  assertNoEntityDeclarations(text, file);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new EpubError('BAD_XML', `"${file}" is not well-formed XML (line ${valid.err.line}: ${valid.err.msg}).`);
  }
  try {
    return parser.parse(text) as XmlNode;
  } catch (cause) {
    throw new EpubError('BAD_XML', `"${file}" could not be parsed as XML.`, { cause });
  }
}

/** The child element(s) named `key` as an array (absent → []). */
export function children(node: unknown, key: string): XmlNode[] {
  if (!node || typeof node !== 'object') return [];
  const value = (node as XmlNode)[key];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'object' && v !== null ? (v as XmlNode) : { '#text': v }));
}

export function child(node: unknown, key: string): XmlNode | undefined {
  return children(node, key)[0];
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** Text content of an element, including text nested in child elements (e.g. <dc:title><span>). */
export function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join(' ');
  if (typeof node === 'object') {
    return Object.entries(node as XmlNode)
      .filter(([key]) => !key.startsWith('@'))
      .map(([, value]) => textOf(value))
      .join(' ');
  }
  return '';
}
