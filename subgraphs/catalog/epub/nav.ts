/** Private to the EPUB pipeline: chapter titles from the EPUB 3 nav document or the EPUB 2 NCX. */
import { Parser } from 'htmlparser2';
import { resolveHref } from './paths.js';
import { normalizeWhitespace } from './text.js';
import { attr, child, children, parseXml, textOf } from './xml.js';
import type { XmlNode } from './xml.js';

/** Zip path of a content file → its title. The first TOC entry for a file names it. */
export type TocTitles = Map<string, string>;

const MAX_TITLE = 500;

function record(titles: TocTitles, fromFile: string, href: string | undefined, label: string): void {
  const path = href ? resolveHref(fromFile, href) : undefined;
  const title = normalizeWhitespace(label).slice(0, MAX_TITLE);
  if (path && title && !titles.has(path)) titles.set(path, title);
}

/**
 * EPUB 3: the links inside <nav epub:type="toc"> (or role="doc-toc"); when no nav is marked
 * as the TOC, the document's first nav. Parsed as HTML, so a sloppy nav still yields titles.
 */
export function titlesFromNav(xhtml: string, navPath: string): TocTitles {
  const collect = (onlyToc: boolean): TocTitles => {
    const titles: TocTitles = new Map();
    let navDepth = 0; // >0 while inside the chosen nav (navs may nest)
    let used = false;
    let link: { href: string | undefined; text: string[] } | undefined;
    const parser = new Parser(
      {
        onopentag(name, attributes) {
          if (name === 'nav') {
            if (navDepth > 0) navDepth += 1;
            else if (!used) {
              const types = `${attributes['epub:type'] ?? ''} ${attributes['role'] ?? ''}`.split(/\s+/);
              if (!onlyToc || types.includes('toc') || types.includes('doc-toc')) {
                navDepth = 1;
                used = true;
              }
            }
          } else if (name === 'a' && navDepth > 0) {
            link = { href: attributes['href'], text: [] };
          }
        },
        ontext(text) {
          link?.text.push(text);
        },
        onclosetag(name) {
          if (name === 'a' && link) {
            record(titles, navPath, link.href, link.text.join(''));
            link = undefined;
          } else if (name === 'nav' && navDepth > 0) {
            navDepth -= 1;
          }
        },
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
    );
    parser.write(xhtml);
    parser.end();
    return titles;
  };
  const toc = collect(true);
  return toc.size > 0 ? toc : collect(false);
}

/** EPUB 2: navMap/navPoint (nested), depth-first in document order. */
export function titlesFromNcx(xml: string, ncxPath: string): TocTitles {
  const titles: TocTitles = new Map();
  const walk = (points: XmlNode[]): void => {
    for (const point of points) {
      record(titles, ncxPath, attr(child(point, 'content'), 'src'), textOf(child(child(point, 'navLabel'), 'text')));
      walk(children(point, 'navPoint'));
    }
  };
  walk(children(child(child(parseXml(xml, ncxPath), 'ncx'), 'navMap'), 'navPoint'));
  return titles;
}
