/**
 * One batch of a repair job: re-anchor each highlight or note with the anchoring library and turn
 * the results into bulk writes. Pure apart from the matcher; the worker commits what this returns,
 * with the job's progress, in one transaction.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
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

/** Event-loop time after which planning a batch yields. */
const SLICE_BUDGET_MS = 10;

/**
 * Plans the writes for one batch; documents already on the target revision are left alone.
 * Runs in slices of about 10 ms with a yield between them: re-anchoring a batch of 1,000
 * costs a few hundred ms of CPU, which in one piece would stall every request in the process.
 * (Not a worker thread: the matcher indexes the whole new revision, which each thread would have
 * to receive and index again.)
 */
export async function planBatchInSlices<T extends HighlightDoc | NoteDoc>(target: RepairTarget, docs: readonly T[], kind: 'highlights' | 'notes'): Promise<PlannedBatch<T>> {
  const plan: PlannedBatch<T> = { replacements: [], counts: { moved: 0, unchanged: 0, orphaned: 0 }, changedNotes: [] };
  let sliceStart = performance.now();
  for (const doc of docs) {
    if (performance.now() - sliceStart >= SLICE_BUDGET_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    planOne(target, doc, kind, plan);
  }
  return plan;
}

function planOne<T extends HighlightDoc | NoteDoc>(target: RepairTarget, doc: T, kind: 'highlights' | 'notes', plan: PlannedBatch<T>): void {
  if (doc.revisionId === target.revision.revisionId) return;
  const { fields, outcome } = target.place(doc);
  plan.counts[outcome] += 1;
  const next = { ...doc, ...fields } as T;
  if (kind === 'highlights' && outcome !== 'orphaned') (next as HighlightDoc).passageKey = passageKey(next);
  if (kind === 'notes') plan.changedNotes.push(next as NoteDoc);
  plan.replacements.push(next);
}
