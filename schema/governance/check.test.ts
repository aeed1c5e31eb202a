import { describe, expect, it } from 'vitest';
import { runCheck, formatReport } from './check.js';
import type { UsageEvidence } from './check.js';
import { diffAll, compose } from './diff.js';
import type { SchemaChange, SubgraphSdls } from './diff.js';

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n';

/** Two fixture subgraphs: books owns Book, reviews contributes to it. */
const base = {
  books: `${link}
    enum Format { PAPER EBOOK AUDIO }
    input BookFilter { format: Format, author: String }
    type Book @key(fields: "id") { id: ID!, title: String, format: Format, subtitle: String }
    type Query {
      book(id: ID!): Book
      books(filter: BookFilter, first: Int = 20): [Book!]!
    }`,
  reviews: `${link}
    type Book @key(fields: "id") { id: ID!, rating: Float }
    type Query { topRated: [Book!]! }`,
} satisfies SubgraphSdls;

const edit = (name: keyof typeof base, from: string, to: string): SubgraphSdls => {
  if (!base[name].includes(from)) throw new Error(`fixture has no ${from}`);
  return { ...base, [name]: base[name].replace(from, to) };
};

async function apiChanges(proposed: SubgraphSdls): Promise<SchemaChange[]> {
  const before = compose(base);
  const after = compose(proposed);
  if (!before.ok || !after.ok) throw new Error('fixture does not compose');
  return diffAll(base, proposed, before.apiSdl, after.apiSdl);
}

const api = (changes: SchemaChange[]) => changes.filter((c) => c.scope === 'api').map((c) => [c.severity, c.coordinate]);

describe('schema change classification', () => {
  it('removing a field is breaking at its coordinate', async () => {
    expect(api(await apiChanges(edit('books', ', subtitle: String', '')))).toEqual([['breaking', 'Book.subtitle']]);
  });

  it('nullable to non-null is safe on an output field and breaking on an input', async () => {
    expect(api(await apiChanges(edit('books', 'title: String,', 'title: String!,')))).toEqual([['safe', 'Book.title']]);
    expect(api(await apiChanges(edit('books', 'author: String }', 'author: String! }')))).toContainEqual(['breaking', 'BookFilter.author']);
  });

  it('removing an enum value is breaking', async () => {
    expect(api(await apiChanges(edit('books', 'PAPER EBOOK AUDIO', 'PAPER EBOOK')))).toEqual([['breaking', 'Format.AUDIO']]);
  });

  it('adding a required argument is breaking; changing a default is dangerous', async () => {
    expect(api(await apiChanges(edit('reviews', 'topRated:', 'topRated(minVotes: Int!):')))).toEqual([['breaking', 'Query.topRated.minVotes']]);
    expect(api(await apiChanges(edit('books', 'first: Int = 20', 'first: Int = 50')))).toEqual([['dangerous', 'Query.books.first']]);
  });

  it('moving a field between subgraphs changes nothing for clients', async () => {
    const moved = {
      books: base.books.replace(', subtitle: String', ''),
      reviews: base.reviews.replace('rating: Float', 'rating: Float, subtitle: String'),
    };
    const changes = await apiChanges(moved);
    expect(api(changes)).toEqual([]);
    const books = changes.find((c) => c.scope === 'books' && c.coordinate === 'Book.subtitle');
    expect(books).toMatchObject({ severity: 'safe', note: expect.stringContaining('was breaking') });
    expect((await runCheck({ published: base, proposed: moved })).ok).toBe(true);
  });
});

describe('schema check decisions', () => {
  const removeSubtitle = edit('books', ', subtitle: String', '');
  const trusted = { id: 'sha256:abc', body: '{ book(id: "1") { title subtitle } }', source: 'trusted-document' as const, clients: ['reader-ios'] };
  const other = { id: 'sha256:def', body: '{ topRated { rating } }', source: 'trusted-document' as const, clients: ['web'] };

  it('fails a breaking change that breaks a registered trusted document, naming it and its client', async () => {
    const report = await runCheck({ published: base, proposed: removeSubtitle, operations: [trusted, other] });
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    expect(text).toContain('BLOCKS: breaks trusted-document sha256:abc (reader-ios)');
    expect(text).not.toContain('sha256:def (web)');
  });

  it('passes an unused breaking change with its evidence', async () => {
    const usage: UsageEvidence = { windowDays: 30, coveredDays: 30, requests: (c) => (c === 'Query.topRated' ? { requests: 9, clients: ['web'] } : { requests: 0, clients: [] }) };
    const report = await runCheck({ published: base, proposed: removeSubtitle, operations: [other], usage });
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toContain('safe to ship: 0 requests in 30 days');
  });

  it('blocks a breaking change still used according to usage data, and one with no evidence at all', async () => {
    const usage: UsageEvidence = { windowDays: 30, coveredDays: 30, requests: () => ({ requests: 4, clients: ['android@2.1'] }) };
    const used = await runCheck({ published: base, proposed: removeSubtitle, usage });
    expect(used.ok).toBe(false);
    expect(formatReport(used)).toContain('4 requests in 30 days from android@2.1');
    expect((await runCheck({ published: base, proposed: removeSubtitle })).ok).toBe(false);
  });

  it('counts an input field as used by every request passing its type, variables included', async () => {
    // `books(filter: $f)`: the gateway records Query.books.filter, never what $f held.
    const recorded: Record<string, number> = { 'Query.books': 7, 'Query.books.filter': 5 };
    const usage: UsageEvidence = { windowDays: 30, coveredDays: 30, requests: (c) => ({ requests: recorded[c] ?? 0, clients: recorded[c] ? ['web@1'] : [] }) };
    const report = await runCheck({ published: base, proposed: edit('books', 'author: String }', 'author: String! }'), usage });
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain('5 requests in 30 days from web@1');
    // Nobody passed a filter in the window: safe to ship, with that evidence.
    const unused: UsageEvidence = { windowDays: 30, coveredDays: 30, requests: (c) => ({ requests: c === 'Query.books' ? 7 : 0, clients: [] }) };
    expect((await runCheck({ published: base, proposed: edit('books', 'author: String }', 'author: String! }'), usage: unused })).ok).toBe(true);
  });

  it('does not call a change unused when usage reaches back less than the window asked', async () => {
    const usage: UsageEvidence = { windowDays: 30, coveredDays: 2.5, requests: () => ({ requests: 0, clients: [] }) };
    const report = await runCheck({ published: base, proposed: removeSubtitle, usage });
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain('0 requests, but usage reaches back only 2.5 of the 30 days asked');
  });

  it('an approval with a reason lets a breaking change through', async () => {
    const report = await runCheck({ published: base, proposed: removeSubtitle, approvals: [{ coordinate: 'Book.subtitle', reason: 'never shipped' }] });
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toContain('approved: never shipped');
  });

  it('reports composition errors as a failure', async () => {
    const report = await runCheck({ published: base, proposed: edit('reviews', 'rating: Float', 'rating: Float, title: Int') });
    expect(report.ok).toBe(false);
    expect(report.compositionErrors.length).toBeGreaterThan(0);
  });
});
