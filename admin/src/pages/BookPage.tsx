/**
 * One book's page, for editors: upload and publish (BookPanel), metadata edited in a form generated
 * from UpdateBookInput, its revisions with the published one marked, its licence, cover, download
 * link and upload jobs. The server decides everything; this page shows what it answers.
 */
import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import { request } from '../api.js';
import { errorMessage, isForbidden } from './common.js';
import { changedInput, editableFields, formValuesFrom, toInput } from '../schema.js';
import { BookPanel } from '../components/BookPanel.js';
import { InputForm } from '../components/InputForm.js';
import { go, href } from '../route.js';

interface Revision {
  readonly id: string;
  readonly number: number;
  readonly chapterCount: number;
  readonly wordCount: number;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly publishedAt: string | null;
}

interface License {
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  readonly territories: readonly string[];
  readonly partnerIds: readonly string[];
  readonly updatedAt: string;
}

interface UploadJobRow {
  readonly id: string;
  readonly status: string;
  readonly interrupted: boolean;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly failureCode: string | null;
  readonly failureReason: string | null;
  readonly warnings: ReadonlyArray<{ readonly code: string }>;
}

interface Page<T> {
  readonly totalCount: number;
  readonly edges: ReadonlyArray<{ readonly node: T }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

interface BookData extends Record<string, unknown> {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  readonly cover: { readonly url: string; readonly mediaType: string; readonly width: number | null; readonly height: number | null } | null;
  readonly coverUrl: string | null;
  readonly download: { readonly url: string; readonly expiresAt: string; readonly sizeBytes: number; readonly sha256: string } | null;
  readonly license: License | null;
  readonly publishedRevision: { readonly id: string } | null;
  readonly revisions: Page<Revision> | null;
  readonly uploadJobs: Page<UploadJobRow> | null;
}

const REVISION_FIELDS = 'id number chapterCount wordCount sizeBytes createdAt publishedAt';
const PAGE_SIZE = 10;

export function BookPage({ schema, token, bookId }: { schema: GraphQLSchema; token: string; bookId: string }): ReactNode {
  const [book, setBook] = useState<BookData | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [olderRevisions, setOlderRevisions] = useState<Revision[]>([]);
  const [revisionCursor, setRevisionCursor] = useState<string | null>(null);

  const bookType = schema.getType('Book');
  const updateInput = schema.getType('UpdateBookInput');
  const editable = isObjectType(bookType) && isInputObjectType(updateInput) ? editableFields(bookType, updateInput) : [];
  const hasPublishedRevision = isObjectType(bookType) && 'publishedRevision' in bookType.getFields();

  const load = useCallback(async () => {
    setError(null);
    try {
      const { book } = await request<{ book: BookData | null }>(
        `query ConsoleBookPage($id: ID!, $first: Int) {
  book(id: $id) {
    id title status publishedAt ${editable.join(' ')}
    cover { url mediaType width height }
    coverUrl
    download { url expiresAt sizeBytes sha256 }
    license { startsAt endsAt territories partnerIds updatedAt }
    ${hasPublishedRevision ? 'publishedRevision { id }' : ''}
    revisions(first: $first) { totalCount edges { node { ${REVISION_FIELDS} } } pageInfo { hasNextPage endCursor } }
    uploadJobs(first: $first) { totalCount edges { node { id status interrupted sizeBytes createdAt finishedAt failureCode failureReason warnings { code } } } pageInfo { hasNextPage endCursor } }
  }
}`,
        { id: bookId, first: PAGE_SIZE },
        token,
      );
      setMissing(book === null);
      setBook(book);
      setOlderRevisions([]);
      setRevisionCursor(book?.revisions?.pageInfo.hasNextPage ? book.revisions.pageInfo.endCursor : null);
    } catch (e) {
      setError(errorMessage(e));
    }
    // editable is derived from the schema, which does not change while the page is open.
  }, [bookId, token, hasPublishedRevision, editable.join(' ')]);

  useEffect(() => void load(), [load, version]);
  const reload = (): void => setVersion((v) => v + 1);

  async function moreRevisions(): Promise<void> {
    try {
      const { book: more } = await request<{ book: { revisions: Page<Revision> | null } | null }>(
        `query ConsoleBookRevisions($id: ID!, $first: Int, $after: String) { book(id: $id) { revisions(first: $first, after: $after) { totalCount edges { node { ${REVISION_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`,
        { id: bookId, first: PAGE_SIZE, after: revisionCursor },
        token,
      );
      const page = more?.revisions;
      if (!page) return;
      setOlderRevisions((r) => [...r, ...page.edges.map((e) => e.node)]);
      setRevisionCursor(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  if (missing) return <p role="alert">No such book (or you may not see it). <a href={href('books')}>Back to the books</a></p>;
  const revisions = [...(book?.revisions?.edges.map((e) => e.node) ?? []), ...olderRevisions];
  // Book.coverUrl falls back to the EPUB's signed cover link: that is not a value an editor set.
  const editorValues = book && book.cover && book.coverUrl === book.cover.url ? { ...book, coverUrl: null } : book;
  const initial = editorValues && isInputObjectType(updateInput) ? formValuesFrom(updateInput, editorValues) : null;

  return (
    <div className="book-page">
      <p><a href={href('books')}>← Books</a></p>
      {error && <p role="alert" className="error">{error}</p>}
      {!book && !error && <p role="status">Loading the book…</p>}
      <div className="book-page-grid">
        <BookPanel token={token} bookId={bookId} onChanged={reload} onClose={() => go('books')} />
        {book && (
          <>
            <section aria-labelledby="revisions-title" className="card">
              <h2 id="revisions-title">Revisions</h2>
              <p>{book.revisions?.totalCount ?? 0} uploaded; the one readers get is marked.</p>
              <div className="table-wrap">
                <table aria-label="Revisions">
                  <thead>
                    <tr><th scope="col">#</th><th scope="col">State</th><th scope="col">Chapters</th><th scope="col">Words</th><th scope="col">Size</th><th scope="col">Uploaded</th><th scope="col">First published</th></tr>
                  </thead>
                  <tbody>
                    {revisions.map((r) => (
                      <tr key={r.id} data-testid={`revision-${r.number}`}>
                        <td>{r.number}</td>
                        <td>{revisionState(book, r)}</td>
                        <td>{r.chapterCount}</td>
                        <td>{r.wordCount}</td>
                        <td>{kib(r.sizeBytes)}</td>
                        <td>{when(r.createdAt)}</td>
                        <td>{when(r.publishedAt)}</td>
                      </tr>
                    ))}
                    {revisions.length === 0 && <tr><td colSpan={7}>No upload yet.</td></tr>}
                  </tbody>
                </table>
              </div>
              {revisionCursor && <button type="button" onClick={() => void moreRevisions()}>Older revisions</button>}
            </section>

            {isInputObjectType(updateInput) && initial && (
              <section aria-labelledby="metadata-title" className="card">
                <h2 id="metadata-title">Metadata</h2>
                <InputForm
                  key={book.id}
                  type={updateInput}
                  initial={initial}
                  submitLabel="Save metadata"
                  onSubmit={async (input) => {
                    const changes = changedInput(toInput(updateInput, initial), input);
                    if (Object.keys(changes).length === 0) return 'Nothing changed.';
                    await request('mutation ConsoleUpdateBook($id: ID!, $input: UpdateBookInput!) { updateBook(id: $id, input: $input) { id } }', { id: book.id, input: changes }, token);
                    reload();
                    return `Saved: ${Object.keys(changes).join(', ')}.`;
                  }}
                />
              </section>
            )}

            <LicenseEditor key={`${book.id}-${book.license?.updatedAt ?? ''}`} token={token} bookId={book.id} license={book.license} onSaved={reload} />

            <section aria-labelledby="files-title" className="card">
              <h2 id="files-title">Cover and download</h2>
              <h3>Cover</h3>
              {book.cover ? (
                <p data-testid="cover">
                  From the published EPUB: {book.cover.mediaType}
                  {book.cover.width && book.cover.height ? `, ${book.cover.width}×${book.cover.height} px` : ''} — <a href={book.cover.url} target="_blank" rel="noreferrer">open the cover</a>
                </p>
              ) : book.coverUrl ? (
                <p data-testid="cover">Set by an editor: <a href={book.coverUrl} target="_blank" rel="noreferrer noopener">{book.coverUrl}</a></p>
              ) : (
                <p data-testid="cover">No cover: the published EPUB has none and no coverUrl is set.</p>
              )}
              <p className="help">The API takes a cover as part of the EPUB or as a coverUrl (Metadata); there is no separate cover upload.</p>
              <h3>Download</h3>
              {book.download ? (
                <p>
                  <a href={book.download.url} data-testid="download" download>Download the published EPUB</a> ({kib(book.download.sizeBytes)}, signed link valid until {when(book.download.expiresAt)})
                  <br />
                  <small>sha256 <code>{book.download.sha256}</code></small>
                </p>
              ) : (
                <p data-testid="download-none">
                  No download link for you: a download is checked as the licence sees its holder (staff rights stop at files), so it needs a published
                  revision and a licence whose window and territories include you.
                </p>
              )}
            </section>

            <section aria-labelledby="jobs-title" className="card">
              <h2 id="jobs-title">Upload jobs</h2>
              <p>{book.uploadJobs?.totalCount ?? 0} in all, newest first{(book.uploadJobs?.totalCount ?? 0) > PAGE_SIZE ? ` (the latest ${PAGE_SIZE})` : ''}.</p>
              <div className="table-wrap">
                <table aria-label="Upload jobs">
                  <thead>
                    <tr><th scope="col">Status</th><th scope="col">Size</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Warnings</th><th scope="col">Failure</th></tr>
                  </thead>
                  <tbody>
                    {book.uploadJobs?.edges.map(({ node: j }) => (
                      <tr key={j.id}>
                        <td>{j.status}{j.interrupted ? ' (interrupted, will resume)' : ''}</td>
                        <td>{kib(j.sizeBytes)}</td>
                        <td>{when(j.createdAt)}</td>
                        <td>{duration(j.createdAt, j.finishedAt)}</td>
                        <td>{j.warnings.length === 0 ? '—' : j.warnings.map((w) => w.code).join(', ')}</td>
                        <td>{j.failureCode ? `${j.failureReason ?? ''} (${j.failureCode})` : '—'}</td>
                      </tr>
                    ))}
                    {book.uploadJobs?.edges.length === 0 && <tr><td colSpan={6}>No upload yet.</td></tr>}
                  </tbody>
                </table>
              </div>
            </section>
          </>
        )}
      </div>
    </div>
  );
}

function revisionState(book: BookData, revision: Revision): string {
  if (book.publishedRevision?.id !== revision.id) return revision.publishedAt ? 'Earlier' : 'Draft';
  return book.status === 'PUBLISHED' ? 'Published' : 'Last published (withdrawn)';
}

interface ApiKeyOption {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly revokedAt: string | null;
}

/** `2026-12-03T10:00:00.000Z` ↔ the `datetime-local` value `2026-12-03T10:00`, in UTC throughout. */
export function toUtcInput(iso: string | null): string {
  return iso ? iso.slice(0, 16) : '';
}

export function fromUtcInput(value: string): string | null {
  return value === '' ? null : new Date(`${value}:00.000Z`).toISOString();
}

function LicenseEditor({ token, bookId, license, onSaved }: { token: string; bookId: string; license: License | null; onSaved: () => void }): ReactNode {
  const [startsAt, setStartsAt] = useState(toUtcInput(license?.startsAt ?? null));
  const [endsAt, setEndsAt] = useState(toUtcInput(license?.endsAt ?? null));
  const [territories, setTerritories] = useState((license?.territories ?? []).join(' '));
  const [partners, setPartners] = useState<string[]>([...(license?.partnerIds ?? [])]);
  const [typedPartners, setTypedPartners] = useState((license?.partnerIds ?? []).join('\n'));
  const [keys, setKeys] = useState<ApiKeyOption[] | null>(null);
  const [keysNote, setKeysNote] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  useEffect(() => {
    // API keys are ADMIN-only; an editor types key ids instead.
    request<{ apiKeys: ApiKeyOption[] | null }>('query ConsoleApiKeys { apiKeys { id name prefix revokedAt } }', {}, token).then(
      ({ apiKeys }) => setKeys(apiKeys ?? []),
      (e: unknown) => setKeysNote(isForbidden(e) ? 'Only admins may list API keys: enter partner key ids, one per line.' : `API keys could not be read: ${errorMessage(e)}`),
    );
  }, [token]);

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setDone(null);
    try {
      const partnerIds = keys ? partners : typedPartners.split('\n').map((s) => s.trim()).filter((s) => s !== '');
      const input = {
        bookId,
        startsAt: fromUtcInput(startsAt),
        endsAt: fromUtcInput(endsAt),
        territories: territories.split(/[\s,]+/).map((t) => t.trim()).filter((t) => t !== ''),
        partnerIds,
      };
      await request('mutation ConsoleSetLicense($input: SetBookLicenseInput!) { setBookLicense(input: $input) { id } }', { input }, token);
      setDone('Licence saved.');
      onSaved();
    } catch (e) {
      setProblem(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const unknownPartners = keys ? partners.filter((p) => !keys.some((k) => k.id === p)) : [];
  return (
    <section aria-labelledby={`${id}-title`} className="card">
      <h2 id={`${id}-title`}>Licence</h2>
      <p data-testid="license-summary">
        {license
          ? `Window ${when(license.startsAt, 'open')} → ${when(license.endsAt, 'no end')}; ${license.territories.length ? license.territories.join(', ') : 'worldwide'}; ${license.partnerIds.length} partner key(s). Updated ${when(license.updatedAt)}.`
          : 'No licence set: readable everywhere from publication, by no partner.'}
      </p>
      <form onSubmit={(e) => void save(e)} aria-label="Licence form">
        <div className="field">
          <label htmlFor={`${id}-starts`}>Starts at (UTC)</label>
          <input id={`${id}-starts`} type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} aria-describedby={`${id}-starts-help`} />
          <small id={`${id}-starts-help`} className="help">Empty: readable at once.</small>
        </div>
        <div className="field">
          <label htmlFor={`${id}-ends`}>Ends at (UTC)</label>
          <input id={`${id}-ends`} type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} aria-describedby={`${id}-ends-help`} />
          <small id={`${id}-ends-help`} className="help">Exclusive; empty: no end.</small>
        </div>
        <div className="field">
          <label htmlFor={`${id}-territories`}>Territories</label>
          <input id={`${id}-territories`} value={territories} maxLength={2000} onChange={(e) => setTerritories(e.target.value)} aria-describedby={`${id}-territories-help`} />
          <small id={`${id}-territories-help`} className="help">ISO 3166-1 alpha-2 codes separated by spaces or commas (US, CN); empty: worldwide.</small>
        </div>
        {keys ? (
          <fieldset>
            <legend>Partner keys</legend>
            {keys.length === 0 && <p>No API keys yet (Partners page).</p>}
            {keys.map((k) => (
              <div key={k.id} className="check">
                <input
                  type="checkbox"
                  id={`${id}-key-${k.id}`}
                  checked={partners.includes(k.id)}
                  onChange={(e) => setPartners(e.target.checked ? [...partners, k.id] : partners.filter((p) => p !== k.id))}
                />
                <label htmlFor={`${id}-key-${k.id}`}>
                  {k.name} <code>{k.prefix}…</code>{k.revokedAt ? ' (revoked)' : ''}
                </label>
              </div>
            ))}
            {unknownPartners.length > 0 && <p className="help">Also set, not among the keys: {unknownPartners.join(', ')} (kept).</p>}
          </fieldset>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-partners`}>Partner key ids</label>
            <textarea id={`${id}-partners`} rows={3} maxLength={5000} value={typedPartners} onChange={(e) => setTypedPartners(e.target.value)} aria-describedby={`${id}-partners-help`} />
            <small id={`${id}-partners-help`} className="help">{keysNote ?? 'Reading the API keys…'}</small>
          </div>
        )}
        {problem && <p role="alert" className="error">{problem}</p>}
        {done && <p role="status" className="ok">{done}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save licence'}</button>
      </form>
    </section>
  );
}

export function when(iso: string | null, none = '—'): string {
  if (!iso) return none;
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

export function kib(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

export function duration(from: string | null, to: string | null): string {
  if (!from || !to) return '—';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}
