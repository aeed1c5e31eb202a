/** Factories for catalog data through the gateway: books, uploads, jobs, publishing, licenses. */
import { buildEpub } from '../../subgraphs/catalog/epub/build.js';
import { FIXTURE_BOOK } from './epubFixtures.js';
import { eventually, graphql, mustQuery, type GraphQLResponse } from './platform.js';

export const CREATE_BOOK = /* GraphQL */ `
  mutation CreateBook($input: CreateBookInput!) { createBook(input: $input) { id title status } }
`;
export const UPLOAD_CONTENT = /* GraphQL */ `
  mutation Upload($input: UploadBookContentInput!) { uploadBookContent(input: $input) { id status } }
`;
export const UPLOAD_JOB = /* GraphQL */ `
  query Job($id: ID!) {
    uploadJob(id: $id) { id status failureCode failureReason warnings { code message } stages { stage startedAt } revision { id number chapterCount } }
  }
`;
export const PUBLISH_BOOK = /* GraphQL */ `
  mutation Publish($id: ID!) { publishBook(id: $id) { id status publishedAt currentRevision { id } } }
`;
export const SET_LICENSE = /* GraphQL */ `
  mutation License($input: SetBookLicenseInput!) {
    setBookLicense(input: $input) { id license { startsAt endsAt territories partnerIds } }
  }
`;

export interface UploadJobView {
  readonly id: string;
  readonly status: string;
  readonly failureCode: string | null;
  readonly failureReason: string | null;
  readonly warnings: Array<{ code: string; message: string }>;
  readonly stages: Array<{ stage: string; startedAt: string }>;
  readonly revision: { id: string; number: number; chapterCount: number } | null;
}

export async function createBook(gateway: string, token: string, input: Record<string, unknown> = {}): Promise<string> {
  const data = await mustQuery<{ createBook: { id: string } }>(gateway, CREATE_BOOK, { input: { title: 'Test Book', authors: ['Test Author'], language: 'en', ...input } }, { token });
  return data.createBook.id;
}

/** Sends the upload mutation; the raw response, so tests can assert refusals. */
export function uploadEpub(gateway: string, token: string, bookId: string, epub: Buffer): Promise<GraphQLResponse<{ uploadBookContent: { id: string; status: string } }>> {
  return graphql(gateway, UPLOAD_CONTENT, { input: { bookId, epubBase64: epub.toString('base64') } }, { token });
}

/** Polls the job until STORED or FAILED; returns every status seen on the way. */
export async function waitForJob(gateway: string, token: string, jobId: string): Promise<{ job: UploadJobView; seen: string[] }> {
  const seen: string[] = [];
  const job = await eventually(async () => {
    const data = await mustQuery<{ uploadJob: UploadJobView }>(gateway, UPLOAD_JOB, { id: jobId }, { token });
    if (seen.at(-1) !== data.uploadJob.status) seen.push(data.uploadJob.status);
    return data.uploadJob.status === 'STORED' || data.uploadJob.status === 'FAILED' ? data.uploadJob : null;
  }, { intervalMs: 25 });
  return { job, seen };
}

/** Creates, uploads, waits for STORED, publishes and licenses (worldwide, open) a book. */
export async function createPublishedBook(
  gateway: string,
  editorToken: string,
  epub?: Buffer,
  input: Record<string, unknown> = {},
): Promise<{ bookId: string; revisionId: string }> {
  const bookId = await createBook(gateway, editorToken, input);
  const upload = await uploadEpub(gateway, editorToken, bookId, epub ?? (await buildEpub(FIXTURE_BOOK)));
  if (upload.errors?.length || !upload.data) throw new Error(`upload failed: ${JSON.stringify(upload.errors)}`);
  const { job } = await waitForJob(gateway, editorToken, upload.data.uploadBookContent.id);
  if (job.status !== 'STORED' || !job.revision) throw new Error(`upload job ${job.status}: ${job.failureReason}`);
  await mustQuery(gateway, PUBLISH_BOOK, { id: bookId }, { token: editorToken });
  await mustQuery(gateway, SET_LICENSE, { input: { bookId } }, { token: editorToken });
  return { bookId, revisionId: job.revision.id };
}
