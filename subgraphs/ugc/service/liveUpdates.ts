/**
 * Live updates about shared things (not the caller's own data, unlike sync.ts): a book's repair
 * job, and public notes added to a paragraph. Same design as sync.ts: the gateway learns an event's
 * `seq` from ugc's signed feed and asks for it through these queries with the subscriber's identity,
 * so every event passes policy.ts again, as the subscriber is now.
 *
 * `seq` "0" is the gateway's subscribe-time dry run: it asks whether the caller may subscribe at all
 * (an error refuses the subscription: FORBIDDEN for a reader asking for repair jobs, NOT_FOUND for a
 * paragraph they may not read) and answers null. For a real event a refusal is a null answer,
 * which the gateway does not send (the book was unpublished or its licence changed meanwhile).
 */
import type { Caller } from '../../../lib/identity.js';
import { authorize, can, notAvailable, readableParagraphs, subjects } from '../policy.js';
import { REPAIR_JOB_UPDATED } from '../repair/jobs.js';
import type { NoteDoc, RepairJobDoc } from '../store.js';
import { checkId, type UgcDeps } from './common.js';

/** Which outbox event types each of these subscription fields delivers (the gateway filters on the same list). */
const LIVE_EVENT_TYPES = {
  repairJob: [REPAIR_JOB_UPDATED],
  publicNote: ['NoteWritten'],
} as const;

/** The gateway's subscribe-time check (service.ts dry run). */
const SUBSCRIBE_CHECK = '0';

/** EDITOR/ADMIN: the book's repair job as it is after event `seq` (status, counts, timing); FORBIDDEN for anyone else. */
export async function repairJobUpdate(deps: UgcDeps, viewer: Caller, seq: string, bookIdInput: string): Promise<RepairJobDoc | null> {
  authorize(viewer, 'read', subjects.repairJob);
  const bookId = checkId(bookIdInput, 'bookId');
  if (seq === SUBSCRIBE_CHECK) return null;
  const event = await deps.outbox.at(seq, LIVE_EVENT_TYPES.repairJob);
  if (!event || event.payload.bookId !== bookId || typeof event.payload.jobId !== 'string') return null;
  return deps.store.repairJobs.findOne({ _id: event.payload.jobId, bookId });
}

/**
 * The note event `seq` made public on `paragraphId`, when the viewer may read it now: the note is
 * PUBLIC and placed on that paragraph, and catalog lets the viewer read the paragraph (publication,
 * licence window, territory, partner: catalog's policy, one access call). Private notes never.
 */
export async function publicNoteAddition(deps: UgcDeps, viewer: Caller, seq: string, paragraphIdInput: string): Promise<NoteDoc | null> {
  const paragraphId = checkId(paragraphIdInput, 'paragraphId');
  if (seq === SUBSCRIBE_CHECK) {
    if (!(await readableParagraphs(deps.catalog, viewer, [paragraphId])).has(paragraphId)) throw notAvailable();
    return null;
  }
  const event = await deps.outbox.at(seq, LIVE_EVENT_TYPES.publicNote);
  const p = event?.payload;
  if (!p || p.paragraphId !== paragraphId || p.becamePublic !== true || typeof p.noteId !== 'string') return null;
  const note = await deps.store.notes.findOne({ _id: p.noteId });
  // As the note is now: made private again or deleted since, or re-anchored elsewhere: not sent.
  if (!note || note.paragraphId !== paragraphId || note.visibility !== 'PUBLIC' || note.status !== 'ACTIVE') return null;
  const readable = (await readableParagraphs(deps.catalog, viewer, [paragraphId])).has(paragraphId);
  return readable && can(viewer, 'read', subjects.note(note, readable)!) ? note : null;
}
