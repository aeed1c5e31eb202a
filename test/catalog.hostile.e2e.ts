/** Every hostile EPUB fixture, uploaded through the gateway to a published book: refused cleanly, published revision untouched. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_FIXTURES } from './kit/epubFixtures.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook, uploadEpub, waitForJob } from './kit/catalog.js';
import { errorCodes, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

const READ = /* GraphQL */ `
  query($id: ID!) { book(id: $id) { currentRevision { id contentHash } chapters { id title } } }
`;

describe('catalog hostile uploads e2e', () => {
  let platform: TestPlatform;
  let editor: TestUser;
  let reader: TestUser;
  let bookId: string;
  let before: unknown;

  beforeAll(async () => {
    platform = await startTestPlatform();
    editor = await registerEditor(platform.gateway);
    reader = await registerUser(platform.gateway);
    ({ bookId } = await createPublishedBook(platform.gateway, editor.token));
    before = (await mustQuery(platform.gateway, READ, { id: bookId }, { token: reader.token })).book;
  }, 60_000);
  afterAll(async () => platform?.stop());

  // 'absurdly-large' (50 MiB, 67 MB as base64) is over the gateway's body limit: the gateway's own
  // tests cover body refusal, and subgraphs/catalog/service.test.ts the catalog's 16 MiB upload cap.
  for (const fixture of HOSTILE_FIXTURES.filter((f) => f.name !== 'absurdly-large')) {
    it(`${fixture.name}: ${fixture.description}`, async () => {
      const gw = platform.gateway;
      const response = await uploadEpub(gw, editor.token, bookId, fixture.build());
      if (response.errors) {
        // Refused synchronously (not a zip at all).
        expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
        expect(response.errors[0]!.extensions?.reason).toBe(fixture.expected);
      } else {
        const { job, seen } = await waitForJob(gw, editor.token, response.data!.uploadBookContent.id);
        if (fixture.expected === 'PARSES_SAFELY') {
          expect(job.status).toBe('STORED');
          const chapters = await mustQuery(gw, `query($id: ID!, $r: ID) { book(id: $id) { chapters(revisionId: $r) { html text } } }`, { id: bookId, r: job.revision!.id }, { token: editor.token });
          for (const c of chapters.book.chapters as Array<{ html: string; text: string }>) {
            expect(c.html).not.toMatch(/<script|onclick|onerror|javascript:|<iframe|<style/i);
            expect(c.text).not.toContain('EVIL-SCRIPT');
          }
        } else {
          expect(job).toMatchObject({ status: 'FAILED', failureCode: fixture.expected });
          expect(job.failureReason).toBeTruthy();
          expect(seen.at(-1)).toBe('FAILED');
        }
      }
      // The published revision readers see is exactly what it was.
      expect((await mustQuery(gw, READ, { id: bookId }, { token: reader.token })).book).toEqual(before);
    });
  }
});
