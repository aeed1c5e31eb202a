/**
 * One batch of a repair job: re-anchor each highlight or note with the anchoring library and turn
 * the results into bulk writes. Pure apart from the matcher; the worker commits what this returns,
 * with the job's progress, in one transaction.
 */
import { RevisionMatcher } from '../anchoring/index.js';
import type { RevisionChapters } from '../catalogClient.js';
import { anchorFields, passageKey } from '../service/annotations.js';
import type { AnchorFields, HighlightDoc, NoteDoc } from '../store.js';

/** The new revision, prepared once per job. */
export class RepairTarget {
  readonly matcher: RevisionMatcher;
  private readonly chapters: Map<string, RevisionChapters['chapters'][number]>;

  constructor(
    readonly revision: RevisionChapters,
    /** Chapter id → reading-order index in the old revision (a hint when chapter ids changed). */
    private readonly oldChapterIndex: ReadonlyMap<string, number>,
  ) {
    this.matcher = new RevisionMatcher(revision.chapters.map((c) => ({ id: c.id, text: c.text })));
    this.chapters = new Map(revision.chapters.map((c) => [c.id, c]));
  }

  /** The anchor fields after re-anchoring, and how it went. */
  place(doc: AnchorFields): { fields: Partial<AnchorFields>; outcome: 'moved' | 'unchanged' | 'orphaned' } {
    const chapterIndex = this.oldChapterIndex.get(doc.chapterId) ?? doc.chapterIndex;
    // The library returns ORPHANED for a malformed stored anchor; anything it throws is a bug, and
    // fails the batch (the job retries) rather than orphaning highlights that may be fine.
    const result = this.matcher.reanchor(
      { chapterId: doc.chapterId, start: doc.start, end: doc.end, exact: doc.exact, prefix: doc.prefix, suffix: doc.suffix },
      { chapterIndex },
    );
    if (result.status === 'ORPHANED') {
      // Kept as it was (its quote still shows to its author); only marked and moved to the new revision's books.
      return { fields: { status: 'ORPHANED', revisionId: this.revision.revisionId }, outcome: 'orphaned' };
    }
    const { anchor } = result;
    const chapter = this.chapters.get(anchor.chapterId)!;
    const fields = anchorFields({ ...chapter, bookId: this.revision.bookId, revisionId: this.revision.revisionId }, anchor);
    // New revisions have new chapter ids, so "unchanged" means same place: same chapter position, same offsets, same words.
    const same = chapter.index === chapterIndex && anchor.start === doc.start && anchor.end === doc.end && anchor.exact === doc.exact;
    return { fields, outcome: same ? 'unchanged' : 'moved' };
  }
}

export interface BatchCounts {
  moved: number;
  unchanged: number;
  orphaned: number;
}

export interface PlannedBatch<T> {
  /** Whole replacement documents (a replace is several times cheaper than a `$set` on the embedded engine). */
  readonly replacements: T[];
  readonly counts: BatchCounts;
  /** Notes whose anchor changed (for NoteWritten events). */
  readonly changedNotes: NoteDoc[];
}

/** Plans the writes for one batch; documents already on the target revision are left alone. */
export function planBatch<T extends HighlightDoc | NoteDoc>(target: RepairTarget, docs: readonly T[], kind: 'highlights' | 'notes'): PlannedBatch<T> {
  const counts: BatchCounts = { moved: 0, unchanged: 0, orphaned: 0 };
  const replacements: T[] = [];
  const changedNotes: NoteDoc[] = [];
  for (const doc of docs) {
    if (doc.revisionId === target.revision.revisionId) continue;
    const { fields, outcome } = target.place(doc);
    counts[outcome] += 1;
    const next = { ...doc, ...fields } as T;
    if (kind === 'highlights' && outcome !== 'orphaned') (next as HighlightDoc).passageKey = passageKey(next);
    if (kind === 'notes') changedNotes.push(next as NoteDoc);
    replacements.push(next);
  }
  return { replacements, counts, changedNotes };
}
