/**
 * One book, for editors: its status, an EPUB upload that follows the job through its stages (with
 * the failure reason and warnings), and publish / unpublish. The server checks every step; the
 * size check here only spares a 16 MiB upload that would be refused.
 */
import { useEffect, useId, useRef, useState, type ChangeEvent, type ReactNode } from 'react';
import { request } from '../api.js';
import { errorMessage } from '../pages/common.js';

/** catalog's limit (UploadBookContentInput.epubBase64: "at most 16 MiB before encoding"). */
export const MAX_EPUB_BYTES = 16 * 1024 * 1024;
const POLL_MS = 750;

interface BookSummary {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  readonly publishedAt: string | null;
}

interface Job {
  readonly id: string;
  readonly status: string;
  /** Its worker stopped mid-way (a crash or restart) and it waits to resume: the status is the stage it stopped in. */
  readonly interrupted: boolean;
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly startedAt: string }>;
  readonly failureCode: string | null;
  readonly failureReason: string | null;
  readonly warnings: ReadonlyArray<{ readonly code: string; readonly message: string }>;
  readonly sizeBytes: number;
}

const JOB_FIELDS = 'id status interrupted stages { stage startedAt } failureCode failureReason warnings { code message } sizeBytes';
const BOOK_FIELDS = 'id title status publishedAt';

export interface BookPanelProps {
  readonly token: string;
  readonly bookId: string;
  readonly onChanged: () => void;
  readonly onClose: () => void;
  /** A link to the book's own page (shown when given). */
  readonly detailsHref?: string;
}

export function BookPanel({ token, bookId, onChanged, onClose, detailsHref }: BookPanelProps): ReactNode {
  const [book, setBook] = useState<BookSummary | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fileId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setJob(null);
    setError(null);
    request<{ book: BookSummary | null }>(`query ConsoleBook($id: ID!) { book(id: $id) { ${BOOK_FIELDS} } }`, { id: bookId }, token).then(
      ({ book }) => {
        setBook(book);
        headingRef.current?.focus();
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [bookId, token]);

  // Follow the job until it ends; the effect's clean-up stops polling when the panel changes.
  useEffect(() => {
    if (!job || job.status === 'STORED' || job.status === 'FAILED') return;
    const timer = setTimeout(() => {
      request<{ uploadJob: Job | null }>(`query ConsoleUploadJob($id: ID!) { uploadJob(id: $id) { ${JOB_FIELDS} } }`, { id: job.id }, token).then(
        ({ uploadJob }) => uploadJob && setJob(uploadJob),
        (e: unknown) => setError(errorMessage(e)),
      );
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job, token]);

  // A job that ended (stored or failed) changed the book's revisions and jobs: tell the page.
  const changed = useRef(onChanged);
  changed.current = onChanged;
  const ended = job !== null && (job.status === 'STORED' || job.status === 'FAILED');
  useEffect(() => {
    if (ended) changed.current();
  }, [ended, job?.id]);

  async function upload(event: ChangeEvent<HTMLInputElement>): Promise<void> {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setError(null);
    if (file.size > MAX_EPUB_BYTES) return setError(`${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; an EPUB may be at most 16 MiB.`);
    setBusy(true);
    setJob(null); // a new upload: the previous job's outcome no longer describes the book
    try {
      const epubBase64 = await base64(file);
      const { uploadBookContent } = await request<{ uploadBookContent: Job }>(
        `mutation ConsoleUpload($input: UploadBookContentInput!) { uploadBookContent(input: $input) { ${JOB_FIELDS} } }`,
        { input: { bookId, epubBase64 } },
        token,
      );
      setJob(uploadBookContent);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function setPublished(publish: boolean): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const field = publish ? 'publishBook' : 'unpublishBook';
      const data = await request<Record<string, BookSummary>>(`mutation ConsolePublish($id: ID!) { ${field}(id: $id) { ${BOOK_FIELDS} } }`, { id: bookId }, token);
      setBook(data[field] ?? null);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="book-panel" aria-labelledby="book-panel-title">
      <h2 id="book-panel-title" tabIndex={-1} ref={headingRef}>{book ? book.title : 'Book'}</h2>
      <button type="button" className="close" onClick={onClose}>Close</button>
      {detailsHref && <a href={detailsHref} className="details-link">Book page: metadata, revisions, licence, jobs</a>}
      {book && (
        <dl>
          <dt>Status</dt>
          <dd data-testid="book-status">{book.status}</dd>
          <dt>Published</dt>
          <dd>{book.publishedAt ?? '—'}</dd>
        </dl>
      )}
      <div className="field">
        <label htmlFor={fileId}>Upload EPUB</label>
        <input id={fileId} type="file" accept=".epub,application/epub+zip" disabled={busy} onChange={(e) => void upload(e)} aria-describedby={`${fileId}-help`} />
        <small id={`${fileId}-help`} className="help">At most 16 MiB. The upload is processed in stages; a failed one never changes the published revision.</small>
      </div>
      {job && <JobProgress job={job} />}
      <div className="actions">
        <button type="button" disabled={busy || book?.status === 'PUBLISHED'} onClick={() => void setPublished(true)}>Publish</button>
        <button type="button" disabled={busy || book?.status !== 'PUBLISHED'} onClick={() => void setPublished(false)}>Unpublish</button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}

function JobProgress({ job }: { job: Job }): ReactNode {
  return (
    <div className="job" aria-live="polite">
      <p>
        Upload job: <strong data-testid="job-status">{job.status}</strong>{job.interrupted ? ' (interrupted, will resume)' : ''} ({(job.sizeBytes / 1024).toFixed(0)} KiB)
      </p>
      <ol aria-label="Stages">
        {job.stages.map((s, i) => <li key={i}>{s.stage} <small>{new Date(s.startedAt).toLocaleTimeString()}</small></li>)}
      </ol>
      {job.status === 'FAILED' && (
        <p role="alert" className="error" data-testid="job-failure">
          {job.failureReason ?? 'The upload failed.'} {job.failureCode && <code>({job.failureCode})</code>}
        </p>
      )}
      {job.warnings.length > 0 && (
        <ul aria-label="Warnings" className="warnings">
          {job.warnings.map((w, i) => <li key={i}><code>{w.code}</code> {w.message}</li>)}
        </ul>
      )}
    </div>
  );
}

function base64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1)); // data:…;base64,<payload>
    };
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read.'));
    reader.readAsDataURL(file);
  });
}
