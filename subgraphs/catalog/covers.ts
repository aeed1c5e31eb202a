/**
 * Book covers: the image an EPUB names as its cover, stored as a file with its revision and served
 * by the catalog service at a signed, expiring URL, like downloads. A cover shows wherever its book
 * does (lists, search results), so its link names no reader and its expiry is rounded to a window:
 * the same URL for everyone for a while, which keeps book lists cacheable. It is served only while
 * its revision is the published one of a published book, so an unpublished book's cover goes too.
 */
import { imageSize } from 'image-size';
import type { Route } from '../../lib/http/routes.js';
import type { Logger } from '../../lib/logger.js';
import { parseExpiry, refuse, sendFile, type DownloadSigner, type DownloadSource } from './downloads.js';
import type { FileStore } from './files.js';
import type { BookDoc, CoverDoc, RevisionDoc } from './store.js';

/** Links stay valid at least this long, and change at most once per window. */
export const COVER_LINK_WINDOW_MS = 60 * 60_000;

const PATH = /^\/covers\/([0-9a-f]{24})\.(jpg|png|gif|webp)$/;
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp' };

export interface BookCover {
  readonly url: string;
  readonly mediaType: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly expiresAt: Date;
}

/** Width and height from the image's header, or undefined when it cannot be read (never throws). */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = imageSize(bytes);
    return width > 0 && height > 0 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

const resourceOf = (revisionId: string): string => `cover:${revisionId}`;

/** The cover of `revision` as a signed link, or null when it has none. */
export function coverLink(signer: DownloadSigner, revision: RevisionDoc, now = Date.now()): BookCover | null {
  const cover: CoverDoc | undefined = revision.cover;
  const extension = cover && EXTENSIONS[cover.mediaType];
  if (!cover || !extension) return null;
  const expires = (Math.floor(now / COVER_LINK_WINDOW_MS) + 2) * COVER_LINK_WINDOW_MS;
  const query = new URLSearchParams({ exp: String(expires), sig: signer.mac(resourceOf(revision._id), expires, '') });
  return {
    url: `${signer.baseUrl}/covers/${revision._id}.${extension}?${query.toString()}`,
    mediaType: cover.mediaType,
    width: cover.width,
    height: cover.height,
    expiresAt: new Date(expires),
  };
}

const isServable = (book: BookDoc | undefined, revision: RevisionDoc): boolean =>
  book !== undefined && book.status === 'PUBLISHED' && book.publishedRevisionId === revision._id;

export function coverRoute(signer: DownloadSigner, source: DownloadSource, files: FileStore, logger: Logger): Route {
  return {
    method: 'GET',
    path: '/covers/*',
    async handle({ req, res, url }) {
      const match = PATH.exec(url.pathname);
      if (!match) return refuse(res, 'NOT_FOUND', 'No such cover.');
      const revisionId = match[1]!;
      const expires = parseExpiry(url.searchParams.get('exp') ?? '');
      if (!signer.check(resourceOf(revisionId), expires, '', url.searchParams.get('sig') ?? '')) return refuse(res, 'FORBIDDEN', 'The cover link is invalid.');
      if (expires <= Date.now()) return refuse(res, 'LINK_EXPIRED', 'The cover link has expired.');
      const revision = (await source.revisionsByIds([revisionId])).get(revisionId);
      const book = revision && (await source.booksByIds([revision.bookId])).get(revision.bookId);
      const file = revision?.cover && isServable(book, revision) ? await files.get(revision.cover.fileId) : null;
      if (!revision?.cover || !file) return refuse(res, 'NOT_FOUND', 'No such cover.');
      await sendFile(req.method === 'HEAD', req.headers, res, file, files, {
        'content-type': revision.cover.mediaType,
        'cache-control': 'public, max-age=300',
        'content-security-policy': "default-src 'none'",
      });
      logger.debug({ revisionId }, 'cover served');
    },
  };
}
