/**
 * Live updates about shared things through the gateway, from the other users' side: an editor
 * watching an upload job (catalog's feed) and a repair job, readers refused both, and public notes
 * on a paragraph reaching exactly the readers the book's licence lets read it.
 */
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createBook, createPublishedBook, SET_LICENSE, uploadEpub } from './kit/catalog.js';
import { eventually, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { collect, wsConnect, type Received, type WsConnection } from './kit/subscriptions.js';
import { CREATE_NOTE, chaptersOf, counterTotal, paragraphAt, rangeOf, replaceBookContent, type ChapterView } from './kit/ugc.js';

const UPLOAD_JOB = /* GraphQL */ `
  subscription Job($id: ID!) {
    uploadJobUpdated(id: $id) { seq status job { id status stages { stage } failureReason warnings { code } revision { chapterCount paragraphCount } } }
  }
`;
const REPAIR_JOB = /* GraphQL */ `
  subscription Repair($bookId: ID!) { repairJobUpdated(bookId: $bookId) { status processed toRevisionId durationMs book { title } } }
`;
const PUBLIC_NOTES = /* GraphQL */ `
  subscription Notes($paragraphId: ID!) { publicNoteAdded(paragraphId: $paragraphId) { id text visibility author { id } paragraph { id text } } }
`;
const SENTENCE = 'The gulls circled the harbour wall while the boats came home with the evening tide.';
const TITLE = 'Harbour Notes';

let platform: TestPlatform;
let editor: TestUser;
let alice: TestUser;
let bob: TestUser;
let writer: TestUser;
let bookId: string;
let chapter: ChapterView;
let paragraphId: string;
const open: Array<{ dispose(): unknown }> = [];

/** An SSE client placed in `country` by the trusted proxy header (the test plays the CDN). */
function sseFrom(token: string, country: string): SseClient {
  const client = createSseClient({ url: platform.gateway, headers: { authorization: `Bearer ${token}`, 'x-test-country': country }, retryAttempts: 0 });
  open.push(client);
  return client;
}

function ws(token: string): WsConnection {
  const connection = wsConnect(platform.gateway, token);
  open.push(connection);
  return connection;
}

/**
 * What a refused subscription said: graphql-ws ends it with the error list; SSE sends one result
 * carrying only errors, then completes (or answers with an HTTP error before streaming).
 */
async function refusal(received: Received): Promise<string> {
  const response = (received.error as { response?: Response } | undefined)?.response;
  if (response instanceof Response) return `${response.status} ${response.statusText} ${await response.text()}`;
  if (received.error !== undefined) return JSON.stringify(received.error);
  expect(received.events.every((e) => !e.data || Object.values(e.data).every((v) => v === null))).toBe(true);
  return JSON.stringify(received.events.flatMap((e) => e.errors ?? []));
}
/** Events that carried data (a refusal carries none). */
const delivered = (received: Received) => received.events.filter((e) => e.data && Object.values(e.data).some((v) => v !== null));

/** Waits until the gateway holds exactly `n` live subscriptions (its gauge counts one once it listens). */
async function untilActive(n: number): Promise<void> {
  await eventually(async () => ((await counterTotal(platform.gateway, 'folio_gateway_subscriptions')) === n ? true : null), { timeoutMs: 30_000, intervalMs: 50 });
}

const note = (token: string, country: string, words: string, text: string, visibility: 'PUBLIC' | 'PRIVATE') =>
  mustQuery<{ createNote: { id: string; paragraph: { id: string } } }>(platform.gateway, CREATE_NOTE, { input: { range: rangeOf(chapter, words), text, visibility } }, {
    token,
    headers: { 'x-test-country': country },
  });

beforeAll(async () => {
  platform = await startTestPlatform({
    env: { FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1', FOLIO_GATEWAY_TERRITORY_HEADER: 'x-test-country', FOLIO_GATEWAY_AUTH_CACHE_SECONDS: '1' },
  });
  editor = await registerEditor(platform.gateway);
  [alice, bob, writer] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway), registerUser(platform.gateway)]);
  ({ bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub({
    title: TITLE,
    authors: ['Folio Tests'],
    language: 'en',
    chapters: [{ title: 'One', paragraphs: [SENTENCE, 'A second paragraph about nets and ropes.'] }],
  }), { title: TITLE }));
  [chapter] = (await chaptersOf(platform.gateway, editor.token, bookId)) as [ChapterView];
  paragraphId = paragraphAt(chapter, chapter.text.indexOf('boats'))!;
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await platform?.stop();
});

describe('uploadJobUpdated and repairJobUpdated', () => {
  it('refuses readers at subscribe (FORBIDDEN), over WebSocket and SSE', async () => {
    const c = ws(alice.token);
    await c.opened;
    const upload = collect(c.client, UPLOAD_JOB, { id: 'any-job' });
    const repair = collect(c.client, REPAIR_JOB, { bookId });
    await Promise.all([upload.ended(), repair.ended()]);
    expect(JSON.stringify(upload.error)).toMatch(/FORBIDDEN/);
    expect(JSON.stringify(repair.error)).toMatch(/FORBIDDEN/);
    const overSse = collect(sseFrom(alice.token, 'DE'), REPAIR_JOB, { bookId });
    await overSse.ended();
    expect(await refusal(overSse)).toMatch(/FORBIDDEN/);
    expect([upload, repair, overSse].flatMap(delivered)).toEqual([]);
  });

  it('lets an editor watch an upload job move through its stages to STORED, from catalog’s feed', async () => {
    // A large upload first keeps the single upload worker busy, so the watched job is still QUEUED
    // when the subscription starts (the subscription has no history: that is `after:`'s job).
    const big = await buildEpub({
      title: 'Blocker',
      authors: ['Folio Tests'],
      language: 'en',
      chapters: Array.from({ length: 40 }, (_, c) => ({ title: `C${c}`, paragraphs: Array.from({ length: 300 }, (_, p) => `Paragraph ${p} of chapter ${c}: ${SENTENCE}`) })),
    });
    const blocker = await uploadEpub(platform.gateway, editor.token, await createBook(platform.gateway, editor.token, { title: 'Blocker' }), big);
    expect(blocker.errors).toBeUndefined();
    const watchedBook = await createBook(platform.gateway, editor.token, { title: 'Watched' });
    const upload = await uploadEpub(platform.gateway, editor.token, watchedBook, await buildEpub({ title: 'Watched', authors: ['Folio Tests'], language: 'en', chapters: [{ title: 'Only', paragraphs: [SENTENCE] }] }));
    const jobId = upload.data!.uploadBookContent.id;

    const c = ws(editor.token);
    await c.opened;
    const job = collect(c.client, UPLOAD_JOB, { id: jobId });
    await untilActive(1);
    const { uploadJob } = await mustQuery<{ uploadJob: { status: string } }>(platform.gateway, 'query($id: ID!) { uploadJob(id: $id) { status } }', { id: jobId }, { token: editor.token });
    expect(uploadJob.status).toBe('QUEUED'); // else the blocker was too small for this machine: events were missed

    await eventually(async () => (job.events.some((e) => e.data?.uploadJobUpdated?.status === 'STORED') ? true : null), { timeoutMs: 90_000, intervalMs: 100 });
    expect(job.events.every((e) => e.errors === undefined && e.data?.uploadJobUpdated?.job.id === jobId)).toBe(true);
    const statuses = job.events.map((e) => e.data!.uploadJobUpdated.status as string);
    expect(statuses).toEqual(['FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    const stored = job.events.at(-1)!.data!.uploadJobUpdated.job;
    expect(stored).toMatchObject({ status: 'STORED', failureReason: null, warnings: [], revision: { chapterCount: 1, paragraphCount: expect.any(Number) } });
    expect(stored.stages.map((s: { stage: string }) => s.stage)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    job.unsubscribe();
    await untilActive(0);
  }, 150_000);

  it('lets an editor watch the repair job after a content replacement, to DONE', async () => {
    const client = sseFrom(editor.token, 'DE');
    const repair = collect(client, REPAIR_JOB, { bookId });
    await untilActive(1);
    const revisionId = await replaceBookContent(platform.gateway, editor.token, bookId, {
      title: TITLE,
      authors: ['Folio Tests'],
      language: 'en',
      chapters: [{ title: 'One', paragraphs: [SENTENCE, 'A second paragraph about nets and ropes.'] }],
    });
    await eventually(async () => (repair.events.some((e) => e.data?.repairJobUpdated?.status === 'DONE') ? true : null), { timeoutMs: 60_000, intervalMs: 100 });
    const done = repair.events.find((e) => e.data?.repairJobUpdated?.status === 'DONE')!.data!.repairJobUpdated;
    expect(done).toMatchObject({ status: 'DONE', toRevisionId: revisionId, book: { title: TITLE } });
    expect(typeof done.durationMs).toBe('number');
    repair.unsubscribe();
    await untilActive(0);
    // The book's paragraphs now belong to the new revision.
    [chapter] = (await chaptersOf(platform.gateway, editor.token, bookId)) as [ChapterView];
    paragraphId = paragraphAt(chapter, chapter.text.indexOf('boats'))!;
  }, 120_000);
});

describe('publicNoteAdded', () => {
  it('reaches readers the licence lets read the book, never private notes, and nobody outside the licence', async () => {
    await mustQuery(platform.gateway, SET_LICENSE, { input: { bookId, territories: ['DE'] } }, { token: editor.token });

    const inGermany = collect(sseFrom(alice.token, 'DE'), PUBLIC_NOTES, { paragraphId });
    // Outside the territory the subscription is refused, like the paragraph itself.
    const inFrance = collect(sseFrom(bob.token, 'FR'), PUBLIC_NOTES, { paragraphId });
    await inFrance.ended();
    expect(await refusal(inFrance)).toMatch(/NOT_FOUND/);
    await untilActive(1);

    const secret = await note(writer.token, 'DE', 'evening tide', 'only for me', 'PRIVATE');
    const shared = await note(writer.token, 'DE', 'boats came home', 'welcome home', 'PUBLIC');
    expect([secret.createNote.paragraph.id, shared.createNote.paragraph.id]).toEqual([paragraphId, paragraphId]);
    const first = (await inGermany.nth(0, 30_000)).data!.publicNoteAdded;
    expect(first).toMatchObject({ id: shared.createNote.id, text: 'welcome home', visibility: 'PUBLIC', author: { id: writer.id }, paragraph: { id: paragraphId } });
    expect(first.paragraph.text).toContain('boats came home');

    // The licence moves to France: Alice, still connected from Germany, gets no more notes…
    await mustQuery(platform.gateway, SET_LICENSE, { input: { bookId, territories: ['FR'] } }, { token: editor.token });
    const hidden = await note(writer.token, 'FR', 'harbour wall', 'from Paris', 'PUBLIC');
    // The gateway resolved it for Alice (ugc answered null: skipped) before the licence comes back.
    const skipped = () => counterTotal(platform.gateway, 'folio_gateway_subscription_events_total', (l) => l.includes('publicNoteAdded') && l.includes('skipped'));
    await eventually(async () => ((await skipped()) >= 1 ? true : null), { timeoutMs: 30_000, intervalMs: 100 });
    // …and once it is back, the next one arrives, the one in between never did (the feed is ordered).
    await mustQuery(platform.gateway, SET_LICENSE, { input: { bookId, territories: ['DE'] } }, { token: editor.token });
    const again = await note(writer.token, 'DE', 'gulls circled', 'back again', 'PUBLIC');
    const second = (await inGermany.nth(1, 30_000)).data!.publicNoteAdded;
    expect(second.id).toBe(again.createNote.id);
    expect(inGermany.events.map((e) => e.data?.publicNoteAdded?.id)).not.toContain(hidden.createNote.id);
    expect(inGermany.events.map((e) => e.data?.publicNoteAdded?.id)).not.toContain(secret.createNote.id);
    expect(inGermany.events).toHaveLength(2);
    inGermany.unsubscribe();
  }, 120_000);
});
