/**
 * A user's highlights and notes as a W3C Web Annotation collection (JSON-LD), so their data is
 * theirs: importable by any client that speaks the model (Hypothesis, Readium, …). Read in batches
 * from cursors; bounded by the per-book limits times the books a user annotates, and capped.
 */
import type { Caller } from '../../../lib/identity.js';
import { can, subjects } from '../policy.js';
import type { AnchorFields, HighlightDoc, NoteDoc } from '../store.js';
import type { UgcDeps } from './common.js';

export const MAX_EXPORTED_ANNOTATIONS = 50_000;
const CONTEXT = 'http://www.w3.org/ns/anno.jsonld';

function target(a: AnchorFields): Record<string, unknown> {
  return {
    source: `urn:folio:book:${a.bookId}:chapter:${a.chapterId}`,
    selector: [
      { type: 'TextPositionSelector', start: a.start, end: a.end },
      { type: 'TextQuoteSelector', exact: a.exact, prefix: a.prefix, suffix: a.suffix },
    ],
  };
}

function highlightAnnotation(h: HighlightDoc): Record<string, unknown> {
  return {
    id: `urn:folio:highlight:${h._id}`,
    type: 'Annotation',
    motivation: 'highlighting',
    created: h.createdAt.toISOString(),
    modified: h.updatedAt.toISOString(),
    // The colour and style as tags, the model's way of attaching a label without a text body.
    body: [
      { type: 'TextualBody', purpose: 'tagging', value: `color:${h.color.toLowerCase()}` },
      { type: 'TextualBody', purpose: 'tagging', value: `style:${h.style.toLowerCase()}` },
    ],
    target: target(h),
    ...(h.status === 'ORPHANED' ? { 'folio:status': 'orphaned' } : {}),
  };
}

function noteAnnotation(n: NoteDoc): Record<string, unknown> {
  return {
    id: `urn:folio:note:${n._id}`,
    type: 'Annotation',
    motivation: 'commenting',
    created: n.createdAt.toISOString(),
    modified: n.updatedAt.toISOString(),
    body: { type: 'TextualBody', value: n.text, format: 'text/plain', purpose: 'commenting' },
    target: n.highlightId ? [target(n), `urn:folio:highlight:${n.highlightId}`] : target(n),
    'folio:visibility': n.visibility.toLowerCase(),
    ...(n.status === 'ORPHANED' ? { 'folio:status': 'orphaned' } : {}),
  };
}

/** `ownerId`'s annotations; null for anyone but the owner. */
export async function exportAnnotations(deps: UgcDeps, viewer: Caller, ownerId: string): Promise<Record<string, unknown> | null> {
  if (!can(viewer, 'readActivity', subjects.user(ownerId))) return null;
  const userId = ownerId;
  const items: Record<string, unknown>[] = [];
  for await (const h of deps.store.highlights.find({ userId }).sort({ _id: 1 }).limit(MAX_EXPORTED_ANNOTATIONS)) items.push(highlightAnnotation(h));
  const room = MAX_EXPORTED_ANNOTATIONS - items.length;
  if (room > 0) for await (const n of deps.store.notes.find({ userId }).sort({ _id: 1 }).limit(room)) items.push(noteAnnotation(n));
  return {
    '@context': [CONTEXT, { folio: 'urn:folio:vocab#' }],
    id: `urn:folio:user:${userId}:annotations`,
    type: 'AnnotationCollection',
    label: 'Highlights and notes',
    total: items.length,
    first: { type: 'AnnotationPage', startIndex: 0, items },
  };
}
