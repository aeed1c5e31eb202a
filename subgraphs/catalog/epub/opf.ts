/** Private to the EPUB pipeline: META-INF/container.xml and the OPF package document. */
import { EpubError } from './errors.js';
import { resolveHref } from './paths.js';
import { attr, child, children, parseXml, textOf } from './xml.js';
import type { XmlNode } from './xml.js';
import { htmlToPlainText } from './xhtml.js';
import { normalizeWhitespace } from './text.js';
import type { EpubWarning } from './warnings.js';

export interface EpubMetadata {
  readonly title: string;
  readonly authors: string[];
  /** BCP 47 tag from dc:language, 'und' when absent. */
  readonly language: string;
  readonly description?: string;
  /** Normalised ISBN-13 or ISBN-10 (digits, maybe a final X), checksum verified. */
  readonly isbn?: string;
  readonly publisher?: string;
  readonly subjects: string[];
}

export interface ManifestItem {
  readonly id: string;
  /** Zip path of the resource. */
  readonly path: string;
  readonly mediaType: string;
  readonly properties: readonly string[];
}

export interface PackageDocument {
  readonly metadata: EpubMetadata;
  /** Spine items in reading order (their manifest entries). */
  readonly spine: ManifestItem[];
  /** Spine entries that could not be followed (unknown id, href outside the package), in order. */
  readonly spineWarnings: EpubWarning[];
  /** EPUB 3 navigation document (manifest item with the `nav` property). */
  readonly nav?: ManifestItem;
  /** EPUB 2 NCX (spine@toc, else the manifest's NCX media type). */
  readonly ncx?: ManifestItem;
  readonly cover?: ManifestItem;
}

export function parseContainer(xml: string): string {
  const doc = parseXml(xml, 'META-INF/container.xml');
  const rootfiles = children(child(child(doc, 'container'), 'rootfiles'), 'rootfile');
  const preferred = rootfiles.find((r) => attr(r, 'media-type') === 'application/oebps-package+xml') ?? rootfiles[0];
  const fullPath = attr(preferred, 'full-path');
  const path = fullPath ? resolveHref('', fullPath) : undefined;
  if (!path) throw new EpubError('MISSING_OPF', 'META-INF/container.xml names no package document (OPF).');
  return path;
}

const clip = (text: string, max: number): string => (text.length > max ? text.slice(0, max).trimEnd() : text);
const clean = (node: unknown, max: number): string => clip(normalizeWhitespace(textOf(node)), max);
const RASTER_COVER_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

export function parseOpf(xml: string, opfPath: string): PackageDocument {
  const pkg = child(parseXml(xml, opfPath), 'package');
  if (!pkg) throw new EpubError('BAD_XML', `"${opfPath}" is not an OPF package document.`);

  const manifest = new Map<string, ManifestItem>();
  /** Manifest ids whose href leaves the package: named in spine warnings. */
  const outside = new Map<string, string>();
  for (const item of children(child(pkg, 'manifest'), 'item')) {
    const id = attr(item, 'id');
    const href = attr(item, 'href');
    const path = href ? resolveHref(opfPath, href) : undefined;
    if (id && href && !path) outside.set(id, href);
    if (!id || !path || manifest.has(id)) continue;
    manifest.set(id, {
      id,
      path,
      mediaType: (attr(item, 'media-type') ?? '').trim().toLowerCase(),
      properties: (attr(item, 'properties') ?? '').split(/\s+/).filter(Boolean),
    });
  }

  const spineNode = child(pkg, 'spine');
  const spine: ManifestItem[] = [];
  const spineWarnings: EpubWarning[] = [];
  children(spineNode, 'itemref').forEach((ref, position) => {
    const idref = (attr(ref, 'idref') ?? '').slice(0, 200);
    const item = manifest.get(idref);
    if (item) spine.push(item);
    else if (outside.has(idref)) {
      spineWarnings.push({ code: 'SPINE_OUTSIDE_PACKAGE', message: `Spine item ${position + 1} ("${idref}") points outside the book (${outside.get(idref)!.slice(0, 200)}); it was skipped.` });
    } else {
      spineWarnings.push({ code: 'SPINE_UNKNOWN_ID', message: `Spine item ${position + 1} names "${idref}", which is not in the manifest; it was skipped.` });
    }
  });

  const items = [...manifest.values()];
  const nav = items.find((item) => item.properties.includes('nav'));
  const ncx =
    manifest.get(attr(spineNode, 'toc') ?? '') ?? items.find((item) => item.mediaType === 'application/x-dtbncx+xml');

  const metadataNode = child(pkg, 'metadata');
  const metas = children(metadataNode, 'meta');
  const coverId = attr(metas.find((m) => attr(m, 'name') === 'cover'), 'content');
  const cover = [items.find((item) => item.properties.includes('cover-image')), manifest.get(coverId ?? '')].find(
    (item) => item !== undefined && RASTER_COVER_TYPES.has(item.mediaType),
  );

  return { metadata: parseMetadata(metadataNode, metas), spine, spineWarnings, nav, ncx, cover };
}

function parseMetadata(node: XmlNode | undefined, metas: XmlNode[]): EpubMetadata {
  // EPUB 3 states creator roles in <meta refines="#id" property="role">; EPUB 2 in opf:role.
  const refinedRoles = new Map<string, string>();
  for (const meta of metas) {
    const refines = attr(meta, 'refines');
    if (refines?.startsWith('#') && attr(meta, 'property') === 'role') refinedRoles.set(refines.slice(1), clean(meta, 20));
  }
  const creators = children(node, 'creator').map((c) => ({
    name: clean(c, 300),
    role: attr(c, 'role') ?? refinedRoles.get(attr(c, 'id') ?? ''),
  }));
  const named = creators.filter((c) => c.name);
  const authors = named.filter((c) => c.role === undefined || c.role === 'aut');
  const description = htmlToPlainText(textOf(child(node, 'description'))).slice(0, 20_000).trim();
  const publisher = clean(child(node, 'publisher'), 300);
  const isbn = children(node, 'identifier')
    .map((id) => normalizeIsbn(textOf(id)))
    .find((value) => value !== undefined);

  return {
    title: clean(child(node, 'title'), 1000) || 'Untitled',
    authors: unique((authors.length > 0 ? authors : named).map((c) => c.name)).slice(0, 50),
    language: clean(child(node, 'language'), 35) || 'und',
    ...(description ? { description } : {}),
    ...(isbn ? { isbn } : {}),
    ...(publisher ? { publisher } : {}),
    subjects: unique(children(node, 'subject').map((s) => clean(s, 200)).filter(Boolean)).slice(0, 50),
  };
}

const unique = (values: string[]): string[] => [...new Set(values)];

/**
 * The ISBN in an identifier ("urn:isbn:978-…", "ISBN 0-…", bare digits), or undefined. Only
 * checksum-valid ISBNs count: opf:scheme is often wrong, and UUIDs are never ISBNs.
 */
export function normalizeIsbn(raw: string): string | undefined {
  const value = raw.trim().replace(/^urn:isbn:/i, '').replace(/^isbn:?\s*/i, '').replace(/[\s-]/g, '').toUpperCase();
  if (/^\d{13}$/.test(value) && /^97[89]/.test(value)) {
    const sum = [...value].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
    if (sum % 10 === 0) return value;
  }
  if (/^\d{9}[\dX]$/.test(value)) {
    const sum = [...value].reduce((acc, d, i) => acc + (d === 'X' ? 10 : Number(d)) * (10 - i), 0);
    if (sum % 11 === 0) return value;
  }
  return undefined;
}
