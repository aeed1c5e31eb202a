/** Private to the EPUB pipeline: zip-internal path arithmetic for hrefs in OPF, NCX and nav. */

/** Directory part of a zip path, with trailing slash ('' for the root). */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash + 1);
}

/**
 * Resolves an href found in `fromFile` to a zip path. Fragments and queries are dropped;
 * remote URLs, and paths climbing above the zip root, resolve to undefined (ignored, since
 * a book may only reference its own files).
 */
export function resolveHref(fromFile: string, href: string): string | undefined {
  let path = href.trim().replace(/[#?].*$/s, '');
  if (!path || /^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) return undefined;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Not percent-encoded after all: use it as written.
  }
  const segments: string[] = [];
  const joined = path.startsWith('/') ? path.slice(1) : dirOf(fromFile) + path;
  for (const segment of joined.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  return segments.length > 0 ? segments.join('/') : undefined;
}
