/**
 * EPUB downloads: signed, expiring URLs served by the catalog service itself, with single-range
 * Range requests, ETag (the file's sha256) and If-None-Match / If-Range. The URL names the
 * revision, the expiry and the subject (user or partner) it was issued to, under an HMAC; the
 * license is checked again when the bytes are served, so a license that ended after the link was
 * issued stops the download too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FolioError } from '../../lib/errors.js';
import { sendError } from '../../lib/http/respond.js';
import type { Route } from '../../lib/http/routes.js';
import type { Logger } from '../../lib/logger.js';
import type { FileStore } from './files.js';
import type { Reader } from './licensing.js';
import { can } from './policy.js';
import type { BookDoc, FileDoc, RevisionDoc } from './store.js';

/** Long enough to start a download on a slow phone, short enough that a leaked link soon dies. */
export const DOWNLOAD_TTL_MS = 15 * 60_000;

const PATH_PREFIX = '/downloads/';

export interface SignedDownload {
  readonly url: string;
  readonly expiresAt: Date;
}

/**
 * `u:<userId>` or `p:<partnerId>`, plus `~<territory>` when known: who the link was issued to and
 * where they were (signed with the link, so the serving check sees the territory the caller had).
 */
export function subjectOf(reader: Pick<Reader, 'userId' | 'partnerId' | 'territory'>): string | null {
  const who = reader.partnerId ? `p:${reader.partnerId}` : reader.userId ? `u:${reader.userId}` : null;
  return who && reader.territory ? `${who}~${reader.territory}` : who;
}

const TERRITORY_SUFFIX = /~([A-Z]{2})$/;

function readerOfSubject(subject: string): Reader | null {
  const territory = TERRITORY_SUFFIX.exec(subject)?.[1] ?? null;
  const id = (territory ? subject.slice(0, -3) : subject).slice(2);
  if (!id || id.length > 100) return null;
  if (subject.startsWith('u:')) return { userId: id, partnerId: null, roles: [], territory };
  if (subject.startsWith('p:')) return { userId: null, partnerId: id, roles: [], territory };
  return null;
}

export class DownloadSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    /** Resolved per link: the service learns its port only after listening. */
    private readonly publicBaseUrl: () => string,
    private readonly ttlMs = DOWNLOAD_TTL_MS,
  ) {
    // A key of its own, derived from the internal secret, so a download signature can never stand in for another.
    this.key = createHmac('sha256', secret).update('folio-catalog-downloads-v1').digest();
  }

  /** `resource` is the revision id for an EPUB, `cover:<revisionId>` for its cover: one link never opens the other. */
  mac(resource: string, expires: number, subject: string): string {
    return createHmac('sha256', this.key).update(`${resource}\n${expires}\n${subject}`).digest('base64url');
  }

  /** True when `sig` is the MAC of these values, compared in constant time. */
  check(resource: string, expires: number, subject: string, sig: string): boolean {
    const expected = Buffer.from(this.mac(resource, expires, subject));
    const given = Buffer.from(sig);
    return Number.isFinite(expires) && expected.length === given.length && timingSafeEqual(expected, given);
  }

  get baseUrl(): string {
    return this.publicBaseUrl().replace(/\/+$/, '');
  }

  sign(revisionId: string, subject: string, now = Date.now()): SignedDownload {
    const expires = now + this.ttlMs;
    const query = new URLSearchParams({ exp: String(expires), sub: subject, sig: this.mac(revisionId, expires, subject) });
    return { url: `${this.baseUrl}${PATH_PREFIX}${encodeURIComponent(revisionId)}.epub?${query.toString()}`, expiresAt: new Date(expires) };
  }

  /** Checks a request URL; the revision id and subject when valid, else why not. */
  verify(url: URL, now = Date.now()): { ok: true; revisionId: string; subject: string } | { ok: false; code: 'NOT_FOUND' | 'FORBIDDEN' | 'LINK_EXPIRED'; reason: string } {
    const match = /^\/downloads\/([0-9a-f]{24})\.epub$/.exec(url.pathname);
    if (!match) return { ok: false, code: 'NOT_FOUND', reason: 'No such download.' };
    const revisionId = match[1]!;
    const exp = url.searchParams.get('exp') ?? '';
    const subject = url.searchParams.get('sub') ?? '';
    const sig = url.searchParams.get('sig') ?? '';
    const expires = parseExpiry(exp);
    if (!this.check(revisionId, expires, subject, sig)) {
      return { ok: false, code: 'FORBIDDEN', reason: 'The download link is invalid.' };
    }
    if (expires <= now) return { ok: false, code: 'LINK_EXPIRED', reason: 'The download link has expired; ask for a new one.' };
    return { ok: true, revisionId, subject };
  }
}

/** An `exp` query value: milliseconds since the epoch, else NaN (which no MAC check accepts). */
export const parseExpiry = (exp: string): number => (/^\d{1,15}$/.test(exp) ? Number(exp) : NaN);

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * Parses a Range header for one range (RFC 9110 §14.1.2). Multiple ranges are answered with the
 * whole file (the RFC lets a server ignore Range); a malformed header is ignored the same way.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}

export interface DownloadSource {
  revisionsByIds(ids: readonly string[]): Promise<Map<string, RevisionDoc>>;
  booksByIds(ids: readonly string[]): Promise<Map<string, BookDoc>>;
}

// Refusals in the one error body shape (lib/http/respond.ts); never cached (a link may turn valid
// again for another subject, and a refusal must not outlive a licence change).
export function refuse(res: ServerResponse, code: 'NOT_FOUND' | 'FORBIDDEN' | 'LINK_EXPIRED', message: string): void {
  sendError(res, new FolioError(code, message), { 'cache-control': 'no-store' });
}

export function downloadRoute(signer: DownloadSigner, source: DownloadSource, files: FileStore, logger: Logger): Route {
  return {
    method: 'GET',
    path: `${PATH_PREFIX}*`,
    async handle({ req, res, url }) {
      const checked = signer.verify(url);
      if (!checked.ok) return refuse(res, checked.code, checked.reason);
      const revision = (await source.revisionsByIds([checked.revisionId])).get(checked.revisionId);
      const book = revision && (await source.booksByIds([revision.bookId])).get(revision.bookId);
      const reader = readerOfSubject(checked.subject);
      if (!revision || !book || !reader) return refuse(res, 'NOT_FOUND', 'No such download.');
      if (!can(reader, 'read', { kind: 'revision', book, revision })) return refuse(res, 'FORBIDDEN', 'This book is not available to you any more.');
      const file = await files.get(revision.fileId);
      if (!file) return refuse(res, 'NOT_FOUND', 'No such download.');
      await sendFile(req.method === 'HEAD', req.headers, res, file, files, {
        'content-type': 'application/epub+zip',
        'content-disposition': `attachment; filename="${revision.bookId}-r${revision.number}.epub"`,
        'cache-control': 'private, max-age=300',
      });
      logger.debug({ revisionId: revision._id, subject: checked.subject }, 'download served');
    },
  };
}

/** Serves a stored file with ETag (its sha256), conditional requests and one byte range. */
export async function sendFile(
  headOnly: boolean,
  headers: Record<string, string | string[] | undefined>,
  res: ServerResponse,
  file: FileDoc,
  files: FileStore,
  describe: Record<string, string>,
): Promise<void> {
  const etag = `"${file.sha256}"`;
  const common: Record<string, string> = { ...describe, etag, 'accept-ranges': 'bytes', 'x-content-type-options': 'nosniff' };
  const ifNoneMatch = headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const ifRange = headers['if-range'];
  const rangeAllowed = ifRange === undefined || ifRange === etag;
  const range = rangeAllowed ? parseRange(headers.range as string | undefined, file.sizeBytes) : null;
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...common, 'content-range': `bytes */${file.sizeBytes}` });
    res.end();
    return;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end + 1 : file.sizeBytes;
  res.writeHead(range ? 206 : 200, {
    ...common,
    'content-length': String(end - start),
    ...(range ? { 'content-range': `bytes ${start}-${end - 1}/${file.sizeBytes}` } : {}),
  });
  if (headOnly) {
    res.end();
    return;
  }
  for await (const part of files.stream(file, start, end)) {
    // Respect back-pressure: a slow client must not make us buffer the whole book.
    if (res.destroyed) return;
    if (!res.write(part)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    }
  }
  res.end();
}
