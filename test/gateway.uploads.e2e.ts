/** Body limits by caller, on the real platform with default limits: readers 1 MiB, editors (EPUB uploads) 24 MiB. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epubFiles } from '../subgraphs/catalog/epub/build.js';
import { FIXTURE_BOOK, writeZip, zipEntry } from './kit/epubFixtures.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createBook, uploadEpub, waitForJob } from './kit/catalog.js';
import { errorCodes, graphql, startTestPlatform, type TestPlatform } from './kit/platform.js';

const MiB = 1024 * 1024;

/** A valid EPUB padded with an incompressible extra file, so its base64 body is about `bodyBytes`. */
function paddedEpub(bodyBytes: number): Buffer {
  const entries = epubFiles(FIXTURE_BOOK).map(([name, content]) => zipEntry(name, content));
  return writeZip([...entries, zipEntry('OEBPS/padding.bin', randomBytes(Math.floor((bodyBytes * 3) / 4)))]);
}

/** POSTs `bytes` of body with chunked transfer encoding (no content-length), so only counting can refuse it. */
function postChunked(url: string, token: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('gateway body limits by caller', () => {
  let platform: TestPlatform;
  let editor: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    platform = await startTestPlatform();
    editor = await registerEditor(platform.gateway);
    reader = await registerUser(platform.gateway);
  }, 60_000);
  afterAll(async () => platform?.stop());

  it("refuses a reader's 2 MiB body with PAYLOAD_TOO_LARGE (413)", async () => {
    const result = await graphql(platform.gateway, `{ __typename } # ${'x'.repeat(2 * MiB)}`, {}, { token: reader.token });
    expect(result.status).toBe(413);
    expect(errorCodes(result)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('counts an undeclared (chunked) body and answers 413, not a reset connection', async () => {
    const result = await postChunked(platform.gateway, reader.token, 2 * MiB);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a 67 MB declared body with 413 even from an editor (over the staff limit)', async () => {
    const result = await graphql(platform.gateway, `{ __typename } # ${'x'.repeat(67_000_000)}`, {}, { token: editor.token });
    expect(result.status).toBe(413);
    expect(errorCodes(result)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it("accepts an editor's 10 MiB EPUB upload through the gateway", async () => {
    const bookId = await createBook(platform.gateway, editor.token);
    const epub = paddedEpub(10 * MiB);
    expect(epub.toString('base64').length).toBeGreaterThan(9.9 * MiB);
    const upload = await uploadEpub(platform.gateway, editor.token, bookId, epub);
    expect(upload.status).toBe(200);
    expect(upload.errors).toBeUndefined();
    const { job } = await waitForJob(platform.gateway, editor.token, upload.data!.uploadBookContent.id);
    expect(job.status).toBe('STORED');
  }, 30_000);

  it("refuses the same upload from a reader with 413 before it reaches the catalog", async () => {
    const upload = await uploadEpub(platform.gateway, reader.token, 'any-book', paddedEpub(2 * MiB));
    expect(upload.status).toBe(413);
    expect(errorCodes(upload)).toEqual(['PAYLOAD_TOO_LARGE']);
  });
});
