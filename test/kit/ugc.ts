/** Factories for UGC data through the gateway: shelf, highlights on chosen words, notes, content replacement and repair jobs. */
import { buildEpub, type BookSource } from '../../subgraphs/catalog/epub/build.js';
import { PUBLISH_BOOK, uploadEpub, waitForJob } from './catalog.js';
import { eventually, mustQuery } from './platform.js';

export const ADD_TO_SHELF = /* GraphQL */ `
  mutation AddToShelf($bookId: ID!, $secret: Boolean) { addToShelf(bookId: $bookId, secret: $secret) { id secret finished book { id } } }
`;
export const UPDATE_PROGRESS = /* GraphQL */ `
  mutation Progress($bookId: ID!, $input: ProgressInput!) {
    updateProgress(bookId: $bookId, input: $input) { applied progress { offset percent deviceId clientTime } }
  }
`;
export const CREATE_HIGHLIGHT = /* GraphQL */ `
  mutation Highlight($input: HighlightInput!) {
    createHighlight(input: $input) {
      id quote color status revisionId chapter { id } paragraph { id }
      selector { position { start end } quote { exact prefix suffix } }
    }
  }
`;
export const CREATE_NOTE = /* GraphQL */ `
  mutation Note($input: NoteInput!) { createNote(input: $input) { id text visibility quote paragraph { id } } }
`;
export const REPAIR_JOB = /* GraphQL */ `
  query Repair($bookId: ID!) {
    repairJob(bookId: $bookId) { id status fromRevisionId toRevisionId moved unchanged orphaned processed durationMs error }
  }
`;

export interface ChapterView {
  readonly id: string;
  readonly index: number;
  readonly text: string;
  readonly paragraphs: { edges: Array<{ node: { id: string; startOffset: number; endOffset: number } }> };
}

/** The chapters (with text and paragraphs) of the revision the caller sees. */
export async function chaptersOf(gateway: string, token: string, bookId: string): Promise<ChapterView[]> {
  const data = await mustQuery<{ book: { chapters: ChapterView[] } }>(
    gateway,
    `query($id: ID!) { book(id: $id) { chapters { id index text paragraphs(first: 100) { edges { node { id startOffset endOffset } } } } } }`,
    { id: bookId },
    { token },
  );
  return data.book.chapters;
}

/** The offsets of `words` in the chapter text (first occurrence); throws when absent. */
export function rangeOf(chapter: Pick<ChapterView, 'id' | 'text'>, words: string): { chapterId: string; start: number; end: number } {
  const start = chapter.text.indexOf(words);
  if (start < 0) throw new Error(`"${words}" is not in chapter ${chapter.id}`);
  return { chapterId: chapter.id, start, end: start + words.length };
}

/** The id of the paragraph holding `offset`. */
export function paragraphAt(chapter: Pick<ChapterView, 'paragraphs'>, offset: number): string | undefined {
  return chapter.paragraphs.edges.find((e) => offset >= e.node.startOffset && offset < e.node.endOffset)?.node.id;
}

export interface HighlightView {
  readonly id: string;
  readonly quote: string;
  readonly status: string;
  readonly revisionId: string;
  readonly chapter: { id: string };
  readonly selector: { position: { start: number; end: number }; quote: { exact: string; prefix: string; suffix: string } };
}

export async function highlightWords(gateway: string, token: string, chapter: Pick<ChapterView, 'id' | 'text'>, words: string): Promise<HighlightView> {
  const data = await mustQuery<{ createHighlight: HighlightView }>(gateway, CREATE_HIGHLIGHT, { input: rangeOf(chapter, words) }, { token });
  return data.createHighlight;
}

/** Uploads new content for a published book and publishes it (catalog emits BookContentReplaced); returns the new revision id. */
export async function replaceBookContent(gateway: string, editorToken: string, bookId: string, source: BookSource): Promise<string> {
  const upload = await uploadEpub(gateway, editorToken, bookId, await buildEpub(source));
  if (upload.errors?.length || !upload.data) throw new Error(`upload failed: ${JSON.stringify(upload.errors)}`);
  const { job } = await waitForJob(gateway, editorToken, upload.data.uploadBookContent.id);
  if (job.status !== 'STORED' || !job.revision) throw new Error(`upload job ${job.status}: ${job.failureReason}`);
  await mustQuery(gateway, PUBLISH_BOOK, { id: bookId }, { token: editorToken });
  return job.revision.id;
}

export interface RepairJobView {
  readonly id: string;
  readonly status: string;
  readonly toRevisionId: string;
  readonly moved: number;
  readonly unchanged: number;
  readonly orphaned: number;
  readonly processed: number;
  readonly durationMs: number | null;
  readonly error: string | null;
}

/** Waits until the repair job for `revisionId` of the book is DONE (editor token). */
export function waitForRepair(gateway: string, editorToken: string, bookId: string, revisionId: string, timeoutMs = 30_000): Promise<RepairJobView> {
  return eventually(async () => {
    const { repairJob } = await mustQuery<{ repairJob: RepairJobView | null }>(gateway, REPAIR_JOB, { bookId }, { token: editorToken });
    return repairJob && repairJob.toRevisionId === revisionId && repairJob.status === 'DONE' ? repairJob : null;
  }, { timeoutMs, intervalMs: 100 });
}

/** Sums a Prometheus counter from a service's /metrics, optionally only samples whose labels pass `keep`. */
export async function counterTotal(serviceGraphqlUrl: string, name: string, keep: (labels: string) => boolean = () => true): Promise<number> {
  const text = await (await fetch(serviceGraphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = line.match(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`));
    if (match && keep(match[1] ?? '')) total += Number(match[2]);
  }
  return total;
}
