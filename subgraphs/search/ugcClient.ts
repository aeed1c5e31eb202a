/**
 * Signed calls to ugc's internal routes: which candidate books are already on a reader's shelf.
 * Responses are validated: another service's bug must not become a wrong answer here.
 */
import { z } from 'zod';
import { callInternal } from '../../lib/signing.js';

const shelvedSchema = z.object({ books: z.array(z.string()) });

/** `POST /internal/shelf/contains` takes at most 1,000 ids per call. */
const SHELF_BATCH = 1_000;

/**
 * A recommendation request waits this long at most for ugc: the list then goes out with only the
 * exclusions learned from ugc's events (the shelf as of one feed delivery ago).
 */
const SHELF_TIMEOUT_MS = 300;

export interface UgcClient {
  /** Which of `bookIds` are on `userId`'s shelf now. */
  shelvedAmong(userId: string, bookIds: readonly string[]): Promise<Set<string>>;
}

export function httpUgcClient(secret: string, baseUrl: () => string): UgcClient {
  return {
    async shelvedAmong(userId, bookIds) {
      const shelved = new Set<string>();
      for (let i = 0; i < bookIds.length; i += SHELF_BATCH) {
        const ids = bookIds.slice(i, i + SHELF_BATCH).filter((id) => id.length <= 100);
        if (ids.length === 0) continue;
        const raw = await callInternal<unknown>({ secret, audience: 'ugc', baseUrl: baseUrl() }, 'POST', '/internal/shelf/contains', { userId, bookIds: ids }, { timeoutMs: SHELF_TIMEOUT_MS });
        for (const id of shelvedSchema.parse(raw).books) shelved.add(id);
      }
      return shelved;
    },
  };
}
