/**
 * Jobs, per book: the latest content upload (catalog), the latest re-anchoring of highlights and
 * notes after a content change (ugc `repairJob`), and where search indexing stands (search
 * `searchIndexStatus`). One request reads a page of books with their latest upload job; a second
 * asks ugc and search about those books at once (aliased root fields: one gateway request, at most
 * 2 × page size fields, inside the gateway's alias limit).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError, request } from '../api.js';
import { href } from '../route.js';
import { duration, kib, when } from './BookPage.js';

const PAGE_SIZE = 10;
const REFRESH_MS = 3000;

interface UploadJobRow {
  readonly id: string;
  readonly status: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly failureCode: string | null;
  readonly interrupted: boolean;
  readonly warnings: ReadonlyArray<{ readonly code: string }>;
}

interface BookRow {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  readonly uploadJobs: { readonly totalCount: number; readonly edges: ReadonlyArray<{ readonly node: UploadJobRow }> } | null;
}

interface RepairRow {
  readonly status: string;
  readonly moved: number;
  readonly unchanged: number;
  readonly orphaned: number;
  readonly processed: number;
  readonly attempts: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly workMs: number;
  readonly interrupted: boolean;
}

interface IndexRow {
  readonly state: string;
  readonly chunksIndexed: number;
  readonly chunksTotal: number;
  readonly progress: number;
  readonly error: string | null;
  readonly updatedAt: string;
}

interface Status {
  readonly repair: RepairRow | null;
  readonly index: IndexRow | null;
  readonly repairError?: string;
  readonly indexError?: string;
}

const ACTIVE_UPLOAD = new Set(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING']);
const ACTIVE_REPAIR = new Set(['PENDING', 'RUNNING']);
const ACTIVE_INDEX = new Set(['PENDING', 'INDEXING']);

/** The aliased query for a page of books: r<i> = repairJob, s<i> = searchIndexStatus. */
export function statusQuery(count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$b${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `r${i}: repairJob(bookId: $b${i}) { ...R } s${i}: searchIndexStatus(bookId: $b${i}) { ...S }`).join('\n  ');
  return `query ConsoleJobStatus(${vars}) {
  ${fields}
}
fragment R on RepairJob { status moved unchanged orphaned processed attempts error createdAt finishedAt durationMs workMs interrupted }
fragment S on BookIndexStatus { state chunksIndexed chunksTotal progress error updatedAt }`;
}

export function JobsPage({ token, bookStatuses }: { token: string; bookStatuses: readonly string[] }): ReactNode {
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [books, setBooks] = useState<BookRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [statuses, setStatuses] = useState<Record<string, Status>>({});
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const after = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const filter: Record<string, string> = {};
      if (query.trim()) filter.query = query.trim();
      if (status) filter.status = status;
      const { books } = await request<{ books: { edges: ReadonlyArray<{ node: BookRow }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null }>(
        `query ConsoleJobs($filter: BookFilter, $first: Int, $after: String) {
  books(filter: $filter, first: $first, after: $after) {
    edges { node { id title status uploadJobs(first: 1) { totalCount edges { node { id status sizeBytes createdAt finishedAt failureCode interrupted warnings { code } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}`,
        { filter, first: PAGE_SIZE, after },
        token,
      );
      const rows = books?.edges.map((e) => e.node) ?? [];
      setBooks(rows);
      setNext(books?.pageInfo.hasNextPage ? books.pageInfo.endCursor : null);
      setStatuses(await readStatuses(token, rows.map((b) => b.id)));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, [token, query, status, after, tick]);

  useEffect(() => void load(), [load]);

  // While anything on the page is still working, read again every few seconds.
  const active =
    books?.some((b) => ACTIVE_UPLOAD.has(b.uploadJobs?.edges[0]?.node.status ?? '')) ||
    Object.values(statuses).some((s) => ACTIVE_REPAIR.has(s.repair?.status ?? '') || ACTIVE_INDEX.has(s.index?.state ?? ''));
  useEffect(() => {
    if (!active || loading) return;
    const timer = setTimeout(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearTimeout(timer);
  }, [active, loading, books, statuses]);

  return (
    <section aria-labelledby="jobs-page-title">
      <h2 id="jobs-page-title">Jobs</h2>
      <p className="help">
        Per book: the latest EPUB upload, the latest re-anchoring of readers’ highlights and notes after its content changed, and its search index.
        {active ? ' Work in progress: this page reads again every few seconds.' : ''}
      </p>
      <form className="filters" role="search" aria-label="Jobs filter" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="jobs-query">Book</label>
          <input id="jobs-query" type="search" maxLength={200} value={query} onChange={(e) => { setQuery(e.target.value); setCursors([null]); }} />
        </div>
        <div className="field">
          <label htmlFor="jobs-status">Book status</label>
          <select id="jobs-status" value={status} onChange={(e) => { setStatus(e.target.value); setCursors([null]); }}>
            <option value="">(any)</option>
            {bookStatuses.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </div>
        <div className="field">
          <span aria-hidden="true">&nbsp;</span>
          <button type="button" onClick={() => setTick((t) => t + 1)} disabled={loading}>Refresh</button>
        </div>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="table-wrap">
        <table aria-label="Jobs" aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">Book</th>
              <th scope="col">Upload</th>
              <th scope="col">Re-anchoring</th>
              <th scope="col">Search index</th>
            </tr>
          </thead>
          <tbody>
            {books?.map((b) => {
              const job = b.uploadJobs?.edges[0]?.node ?? null;
              const s = statuses[b.id];
              return (
                <tr key={b.id} data-testid={`jobs-${b.id}`}>
                  <th scope="row">
                    <a href={href('books', b.id)}>{b.title}</a>
                    <br />
                    <small>{b.status}</small>
                  </th>
                  <td data-testid="upload-cell">
                    {job ? (
                      <>
                        <strong>{job.status}</strong>{job.interrupted ? ' (interrupted, will resume)' : ''}
                        <br />
                        <small>
                          {kib(job.sizeBytes)}, {when(job.createdAt)}, took {duration(job.createdAt, job.finishedAt)}
                          {job.warnings.length > 0 ? `, ${job.warnings.length} warning(s)` : ''}
                          {job.failureCode ? `, ${job.failureCode}` : ''}; {b.uploadJobs?.totalCount ?? 0} upload(s) in all
                        </small>
                      </>
                    ) : 'none'}
                  </td>
                  <td data-testid="repair-cell">
                    {s?.repairError ? <span className="error">{s.repairError}</span> : s?.repair ? (
                      <>
                        <strong>{s.repair.status}</strong>{s.repair.interrupted ? ' (interrupted, will resume)' : ''}
                        <br />
                        <small>
                          moved {s.repair.moved}, unchanged {s.repair.unchanged}, orphaned {s.repair.orphaned}; {s.repair.attempts} attempt(s),{' '}
                          {s.repair.durationMs === null ? 'not finished' : `took ${s.repair.durationMs} ms (${s.repair.workMs} ms working)`}
                          {s.repair.error ? `; ${s.repair.error}` : ''}
                        </small>
                      </>
                    ) : 'none'}
                  </td>
                  <td data-testid="index-cell">
                    {s?.indexError ? <span className="error">{s.indexError}</span> : s?.index ? (
                      <>
                        <strong>{s.index.state}</strong>
                        <br />
                        <small>
                          {s.index.chunksIndexed}/{s.index.chunksTotal} passages ({Math.round(s.index.progress * 100)} %), {when(s.index.updatedAt)}
                          {s.index.error ? `; ${s.index.error}` : ''}
                        </small>
                      </>
                    ) : 'not seen by search'}
                  </td>
                </tr>
              );
            })}
            {books && books.length === 0 && <tr><td colSpan={4}>No books.</td></tr>}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Jobs pages">
        <button type="button" disabled={cursors.length <= 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!next || loading} onClick={() => next && setCursors([...cursors, next])}>Next</button>
      </nav>
    </section>
  );
}

/** One request for every book on the page; a field one subgraph refuses does not hide the others. */
async function readStatuses(token: string, ids: readonly string[]): Promise<Record<string, Status>> {
  if (ids.length === 0) return {};
  const variables = Object.fromEntries(ids.map((id, i) => [`b${i}`, id]));
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: statusQuery(ids.length), variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown> | null; errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number> }> };
  if (!body.data) throw new ApiError(body.errors?.length ? body.errors : [{ message: `The gateway answered HTTP ${response.status} with no data.` }]);
  const errorAt = (key: string): string | undefined => body.errors?.find((e) => e.path?.[0] === key)?.message;
  return Object.fromEntries(
    ids.map((id, i) => [
      id,
      {
        repair: (body.data?.[`r${i}`] as RepairRow | null | undefined) ?? null,
        index: (body.data?.[`s${i}`] as IndexRow | null | undefined) ?? null,
        repairError: errorAt(`r${i}`),
        indexError: errorAt(`s${i}`),
      },
    ]),
  );
}
