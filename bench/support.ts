/** Shared pieces of the platform benchmarks (soak, writes): latency summaries, a seeded book, readers. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { registerEditor, registerUser, type TestUser } from '../test/kit/accounts.js';
import { createPublishedBook } from '../test/kit/catalog.js';
import { graphql, type GraphQLResponse } from '../test/kit/platform.js';
import { ADD_TO_SHELF, chaptersOf, CREATE_HIGHLIGHT, CREATE_NOTE, UPDATE_PROGRESS, type ChapterView } from '../test/kit/ugc.js';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { generateSyntheticBook } from '../subgraphs/catalog/demo/synthetic.js';

export const round = (n: number): number => Math.round(n * 10) / 10;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Sample {
  readonly kind: string;
  readonly ms: number;
  readonly ok: boolean;
  readonly status: number;
  /** The first error's code (or message), for error samples. */
  readonly error?: string;
}

export interface KindSummary {
  readonly count: number;
  readonly errors: number;
  /** Error samples by code. */
  readonly errorCodes: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(samples: readonly Sample[]): KindSummary {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    count: samples.length,
    errors: samples.filter((s) => !s.ok).length,
    errorCodes: samples.reduce<Record<string, number>>((codes, s) => (s.error ? { ...codes, [s.error]: (codes[s.error] ?? 0) + 1 } : codes), {}),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** Bytes under a directory (the embedded store's files: journal growth shows here). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Environment for a benchmark platform: every bench client shares one address, so the per-address limit is lifted; per-user limits stay. */
export const BENCH_ENV = {
  FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '1000000/60',
  FOLIO_LOG_LEVEL: 'warn',
} as const;

export interface Library {
  readonly bookId: string;
  readonly chapters: ChapterView[];
  readonly users: TestUser[];
}

/** One published synthetic book and `readers` users who each have it on their shelf. */
export async function seedLibrary(gateway: string, readers: number): Promise<Library> {
  const editor = await registerEditor(gateway);
  const epub = await buildEpub(generateSyntheticBook({ chapters: 6, paragraphsPerChapter: 60, seed: 4, language: 'en' }));
  const { bookId } = await createPublishedBook(gateway, editor.token, epub, { title: 'Bench Book' });
  const chapters = await chaptersOf(gateway, editor.token, bookId);
  const users: TestUser[] = [];
  // A few at a time: registration is deliberately slow (password hashing).
  for (let i = 0; i < readers; i += 5) {
    users.push(...(await Promise.all(Array.from({ length: Math.min(5, readers - i) }, () => registerUser(gateway)))));
  }
  for (const user of users) await graphql(gateway, ADD_TO_SHELF, { bookId }, { token: user.token });
  return { bookId, chapters, users };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function randomRange(chapters: readonly ChapterView[]): { chapterId: string; start: number; end: number } {
  const chapter = pick(chapters);
  const length = 20 + Math.floor(Math.random() * 40);
  const start = Math.floor(Math.random() * Math.max(1, chapter.text.length - length));
  return { chapterId: chapter.id, start, end: Math.min(chapter.text.length, start + length) };
}

export type WriteKind = 'progress' | 'note' | 'highlight';
export type ReadKind = 'books' | 'book' | 'shelf' | 'myHighlights';

/** One write of `kind` by `user` through the gateway. */
export function write(gateway: string, library: Library, user: TestUser, kind: WriteKind): Promise<GraphQLResponse> {
  switch (kind) {
    case 'progress': {
      const chapter = pick(library.chapters);
      const offset = Math.floor(Math.random() * chapter.text.length);
      return graphql(gateway, UPDATE_PROGRESS, {
        bookId: library.bookId,
        input: { chapterId: chapter.id, offset, percent: Math.round(Math.random() * 1000) / 10, clientTime: new Date().toISOString(), deviceId: 'bench', secondsRead: 5 },
      }, { token: user.token });
    }
    case 'highlight':
      return graphql(gateway, CREATE_HIGHLIGHT, { input: randomRange(library.chapters) }, { token: user.token });
    case 'note':
      return graphql(gateway, CREATE_NOTE, { input: { range: randomRange(library.chapters), text: `A note written at ${new Date().toISOString()} by the benchmark.` } }, { token: user.token });
  }
}

const READS: Record<ReadKind, string> = {
  books: /* GraphQL */ `query { books(first: 5) { edges { node { id title } } } }`,
  book: /* GraphQL */ `query($id: ID!) { book(id: $id) { id title authors } }`,
  shelf: /* GraphQL */ `query { me { id shelf(first: 5) { totalCount edges { node { id book { id title } } } } } }`,
  myHighlights: /* GraphQL */ `query($id: ID!) { book(id: $id) { id myHighlights(first: 10) { edges { node { id quote } } } } }`,
};

export function read(gateway: string, library: Library, user: TestUser, kind: ReadKind): Promise<GraphQLResponse> {
  return graphql(gateway, READS[kind], kind === 'book' || kind === 'myHighlights' ? { id: library.bookId } : {}, { token: user.token });
}

/** Times one request; a GraphQL error or non-200 is an error sample. */
export async function timed(kind: string, request: () => Promise<GraphQLResponse>, from = performance.now()): Promise<Sample> {
  try {
    const r = await request();
    const ok = r.status === 200 && !(r.errors?.length ?? 0);
    const first = r.errors?.[0];
    return { kind, ms: performance.now() - from, ok, status: r.status, ...(ok ? {} : { error: `${kind}:${first?.extensions?.code ?? first?.message.slice(0, 80) ?? `HTTP ${r.status}`}` }) };
  } catch (error) {
    return { kind, ms: performance.now() - from, ok: false, status: 0, error: `${kind}:${(error as Error).message.slice(0, 80)}` };
  }
}
