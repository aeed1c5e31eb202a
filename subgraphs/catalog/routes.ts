/** Internal, signed HTTP endpoints for ugc and search (listed in the README's catalog section). */
import type { ServerResponse } from 'node:http';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { notFound } from '../../lib/errors.js';
import { sendJson } from '../../lib/http/respond.js';
import { jsonBody, type Route } from '../../lib/http/routes.js';
import type { CatalogService } from './service.js';
import type { ChapterDoc } from './store.js';

const chaptersBody = z.object({ ids: z.array(z.string().max(100)).max(200) });
const readableBody = z.object({
  bookIds: z.array(z.string().max(100)).max(1_000),
  partnerId: z.string().max(100).nullable(),
  userId: z.string().max(100).nullable(),
  roles: z.array(z.string().max(20)).max(10),
  // Optional so a caller built before territories still gets the old answer (no territory).
  territory: z.string().regex(/^[A-Z]{2}$/).nullable().optional(),
});
const ids = z.array(z.string().max(100)).max(500).optional();
const accessBody = z.object({
  reader: z.object({
    userId: z.string().max(100).nullable(),
    partnerId: z.string().max(100).nullable(),
    roles: z.array(z.string().max(20)).max(10),
    territory: z.string().regex(/^[A-Z]{2}$/).nullable(),
  }),
  bookIds: ids,
  chapterIds: ids,
  paragraphIds: ids,
});

const presentChapter = (c: Omit<ChapterDoc, 'html'>) => ({
  id: c._id,
  index: c.index,
  title: c.title,
  text: c.text,
  paragraphs: c.paragraphs.map((p) => ({ id: `${c._id}.p${p.index}`, index: p.index, startOffset: p.startOffset, endOffset: p.endOffset })),
});

/** Resolves when the response can take more, or is gone (a closed connection never drains). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function internalRoutes(service: CatalogService): Route[] {
  return [
    {
      method: 'GET',
      path: '/internal/revisions/*',
      internal: true,
      async handle({ res, url }) {
        const match = /^\/internal\/revisions\/([0-9a-f]{24})\/chapters$/.exec(url.pathname);
        if (!match) throw notFound('Revision');
        const content = await service.revisionContent(match[1]!);
        if (!content) throw notFound('Revision');
        const { revision, book, chapters } = content;
        // A large book is tens of MB of JSON: written a chapter at a time, yielding between
        // chapters, so one stringify does not stall every request in the process.
        const head = JSON.stringify({ bookId: revision.bookId, revisionId: revision._id, language: revision.language, title: book.title, authors: book.authors });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.write(`${head.slice(0, -1)},"chapters":[`);
        let i = 0;
        for await (const chapter of chapters) {
          if (res.destroyed) return;
          if (!res.write(`${i++ > 0 ? ',' : ''}${JSON.stringify(presentChapter(chapter))}`)) await drained(res);
          await yieldToEventLoop();
        }
        res.end(']}');
      },
    },
    {
      method: 'POST',
      path: '/internal/chapters',
      internal: true,
      maxBodyBytes: 64 * 1024,
      async handle({ res, body }) {
        const { ids } = await jsonBody(body, chaptersBody, '{ ids: string[] } with at most 200 ids');
        const found = await service.chaptersByIds(ids);
        sendJson(res, 200, {
          chapters: ids.flatMap((id) => {
            const c = found.get(id);
            return c ? [{ ...presentChapter(c), bookId: c.bookId, revisionId: c.revisionId }] : [];
          }),
        });
      },
    },
    {
      method: 'POST',
      path: '/internal/books/readable',
      internal: true,
      maxBodyBytes: 256 * 1024,
      async handle({ res, body }) {
        const input = await jsonBody(body, readableBody, '{ bookIds, partnerId, userId, roles, territory }');
        const readable = await service.readable(input.bookIds, {
          userId: input.userId,
          partnerId: input.partnerId,
          roles: input.roles,
          territory: input.territory ?? null,
        });
        sendJson(res, 200, { readable });
      },
    },
    {
      // The one check that ugc (and search) ask before touching book content on a caller's behalf:
      // the same policy as `book`, `chapter` and `paragraph`, batched (≤ 500 ids in all per call).
      method: 'POST',
      path: '/internal/access',
      internal: true,
      maxBodyBytes: 128 * 1024,
      async handle({ res, body }) {
        const input = await jsonBody(body, accessBody, '{ reader, bookIds?, chapterIds?, paragraphIds? } with at most 500 ids');
        sendJson(res, 200, await service.access(input.reader, input));
      },
    },
  ];
}
