/** Internal, signed HTTP endpoints for search (listed in the README's ugc section). */
import { z } from 'zod';
import { sendJson } from '../../lib/http/respond.js';
import { jsonBody, type Route } from '../../lib/http/routes.js';
import type { ShelfService } from './service/shelf.js';

/** Bounded like catalog's access check: one recommendation window's candidates fit in a call. */
export const MAX_SHELF_LOOKUP = 1_000;

const shelvedBody = z.object({ userId: z.string().min(1).max(100), bookIds: z.array(z.string().max(100)).max(MAX_SHELF_LOOKUP) });

export function internalRoutes(shelf: ShelfService): Route[] {
  return [
    {
      method: 'POST',
      path: '/internal/shelf/contains',
      internal: true,
      maxBodyBytes: 128 * 1024,
      async handle({ res, body }) {
        const { userId, bookIds } = await jsonBody(body, shelvedBody, `{ userId, bookIds } with at most ${MAX_SHELF_LOOKUP} ids`);
        sendJson(res, 200, { books: await shelf.shelvedAmong(userId, bookIds) });
      },
    },
  ];
}
