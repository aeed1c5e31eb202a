/**
 * Benchmark of the pure re-anchoring core (subgraphs/ugc/anchoring): generate a book and a
 * second revision of it (paragraphs inserted and deleted, words edited, one chapter split,
 * one re-keyed), spread highlights over revision 1, re-anchor them all against revision 2 in
 * batches, and report throughput, outcome counts and correctness against the known truth.
 *
 *   npm run bench:reanchor -- [--highlights 100000] [--chapters 30] [--paragraphs 100]
 *                             [--seed 1] [--rekey] [--out bench/results]
 *
 * Writes bench/results/reanchor-<timestamp>.json and .md. The database side of a repair job
 * is not measured here; the full service benchmark belongs to whoever wires the service.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeAnchor, RevisionMatcher, type ReanchorResult, type TextAnchor } from '../subgraphs/ugc/anchoring/index.js';
import { PARAGRAPH_BREAK, paragraph, replacementWord, seededRandom } from '../test/kit/anchoringFixtures.js';

export interface ReanchorBenchOptions {
  /** @default 100000 */
  readonly highlights?: number;
  /** @default 30 */
  readonly chapters?: number;
  /** @default 100 */
  readonly paragraphs?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Give every chapter of revision 2 a new id (as a catalog that mints ids per revision does),
   * so highlights find their chapter by its old index only.
   * @default false
   */
  readonly rekey?: boolean;
  /** Directory for the JSON and Markdown results; null writes nothing. @default bench/results */
  readonly outDir?: string | null;
}

const BATCH = 1000;
const DELETED_PER_CHAPTER = 2;
const INSERTED_PER_CHAPTER = 3;
const EDITED_PER_CHAPTER = 30;

interface Para {
  readonly pid: number;
  text: string;
  /** Word edits made in revision 2, in ascending offset order. */
  readonly edits: { at: number; oldLength: number; newLength: number }[];
}

interface Placed {
  readonly chapterId: string;
  readonly start: number;
}

type Truth =
  | { kind: 'intact'; chapterId: string; start: number; end: number }
  | { kind: 'edited'; chapterId: string; start: number; end: number }
  | { kind: 'deleted' };

interface Book {
  readonly rev1: { id: string; paras: Para[] }[];
  readonly rev2: { id: string; paras: Para[] }[];
}

const textOf = (paras: readonly Para[]): string => paras.map((p) => p.text).join(PARAGRAPH_BREAK);

function offsetsOf(chapters: readonly { id: string; paras: readonly Para[] }[]): Map<number, Placed> {
  const where = new Map<number, Placed>();
  for (const chapter of chapters) {
    let offset = 0;
    for (const para of chapter.paras) {
      where.set(para.pid, { chapterId: chapter.id, start: offset });
      offset += para.text.length + PARAGRAPH_BREAK.length;
    }
  }
  return where;
}

function generateBook(rnd: () => number, chapters: number, paragraphs: number, rekey: boolean): Book {
  let pid = 0;
  const newPara = (): Para => ({ pid: pid++, text: paragraph(rnd), edits: [] });
  const rev1 = Array.from({ length: chapters }, (_, c) => ({
    id: `c${c}`,
    paras: Array.from({ length: paragraphs }, newPara),
  }));
  const rev2: { id: string; paras: Para[] }[] = [];
  for (const [c, chapter] of rev1.entries()) {
    const paras = chapter.paras.map((p) => ({ ...p, edits: [] as Para['edits'] }));
    for (let i = 0; i < DELETED_PER_CHAPTER && paras.length > 1; i += 1) paras.splice(Math.floor(rnd() * paras.length), 1);
    for (let i = 0; i < EDITED_PER_CHAPTER; i += 1) {
      const para = paras[Math.floor(rnd() * paras.length)]!;
      if (para.edits.length > 0) continue;
      const words = [...para.text.matchAll(/[A-Za-z]+/g)];
      const word = words[Math.floor(rnd() * words.length)]!;
      const replacement = replacementWord(rnd, word[0]);
      para.text = para.text.slice(0, word.index) + replacement + para.text.slice(word.index + word[0].length);
      para.edits.push({ at: word.index, oldLength: word[0].length, newLength: replacement.length });
    }
    for (let i = 0; i < INSERTED_PER_CHAPTER; i += 1) paras.splice(Math.floor(rnd() * (paras.length + 1)), 0, newPara());
    if (c === Math.floor(chapters / 4)) {
      // Split: the first half keeps the id, the second half is a new chapter.
      const half = paras.length >> 1;
      rev2.push({ id: chapter.id, paras: paras.slice(0, half) }, { id: `${chapter.id}-part2`, paras: paras.slice(half) });
    } else if (c === Math.floor(chapters / 2)) {
      rev2.push({ id: `${chapter.id}-renamed`, paras }); // re-keyed: found through the old index
    } else {
      rev2.push({ id: chapter.id, paras });
    }
  }
  if (rekey) for (const chapter of rev2) chapter.id = `rev2:${chapter.id}`;
  return { rev1, rev2 };
}

/** Where `[start, end)` of paragraph `para` lands in revision 2, and whether it was edited. */
function truthOf(para: Para, start: number, end: number, placed: Placed | undefined): Truth {
  if (placed === undefined) return { kind: 'deleted' };
  let s = start;
  let e = end;
  let edited = false;
  for (const edit of para.edits) {
    const delta = edit.newLength - edit.oldLength;
    if (edit.at + edit.oldLength <= start) {
      s += delta;
      e += delta;
    } else if (edit.at < end) {
      edited = true;
      e += delta;
    }
  }
  return { kind: edited ? 'edited' : 'intact', chapterId: placed.chapterId, start: placed.start + s, end: placed.start + e };
}

interface Sample {
  readonly anchor: TextAnchor;
  readonly chapterIndex: number;
  readonly truth: Truth;
}

function sampleHighlights(rnd: () => number, book: Book, count: number): Sample[] {
  const texts = book.rev1.map((c) => textOf(c.paras));
  const where1 = offsetsOf(book.rev1);
  const where2 = offsetsOf(book.rev2);
  const rev2Paras = new Map(book.rev2.flatMap((c) => c.paras).map((q) => [q.pid, q]));
  const samples: Sample[] = [];
  while (samples.length < count) {
    const c = Math.floor(rnd() * book.rev1.length);
    const chapter = book.rev1[c]!;
    const p = Math.floor(rnd() * chapter.paras.length);
    const para = chapter.paras[p]!;
    const paraStart = where1.get(para.pid)!.start;
    const roll = rnd();
    const length = roll < 0.2 ? 5 + Math.floor(rnd() * 15) : roll < 0.9 ? 20 + Math.floor(rnd() * 100) : 200 + Math.floor(rnd() * 400);
    const offset = Math.floor(rnd() * Math.max(1, para.text.length - Math.min(length, para.text.length)));
    const end = Math.min(para.text.length, offset + length);
    let anchor: TextAnchor;
    try {
      anchor = describeAnchor(texts[c]!, chapter.id, paraStart + offset, paraStart + end);
    } catch {
      continue; // whitespace-only selection
    }
    const truth = truthOf(rev2Paras.get(para.pid) ?? para, anchor.start - paraStart, anchor.end - paraStart, where2.get(para.pid));
    samples.push({ anchor, chapterIndex: c, truth });
  }
  return samples;
}

export interface ReanchorBenchReport {
  readonly config: Required<Omit<ReanchorBenchOptions, 'outDir'>>;
  readonly machine: { cpus: number; cpuModel: string; node: string; loadAverage: number };
  readonly bookChars: { rev1: number; rev2: number };
  readonly timingsMs: { generate: number; buildMatcher: number; reanchor: number; reanchorCpu: number; slowestBatch: number };
  /** By wall-clock time. */
  readonly highlightsPerSecond: number;
  /** By this process's CPU time. */
  readonly highlightsPerCpuSecond: number;
  readonly outcomes: { unchanged: number; movedExact: number; movedFuzzy: number; orphaned: number };
  readonly truth: { intact: number; edited: number; deleted: number };
  readonly correctness: {
    /** Of all highlights: the new text equals the old quote. */
    readonly textEqualsExact: number;
    /** Of intact highlights: placed at exactly the right chapter and offsets. */
    readonly intactPlacedCorrectly: number;
    /** Of edited highlights: placed over at least half of the true edited range. */
    readonly editedLocated: number;
    /** Of highlights in deleted paragraphs: ORPHANED. */
    readonly deletedOrphaned: number;
    /** Highlights placed somewhere wrong (worse than orphaning them). */
    readonly misplaced: number;
  };
  readonly files?: { json: string; md: string };
}

function overlap(a: { start: number; end: number }, b: { start: number; end: number }): number {
  const shared = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  return shared / Math.max(a.end - a.start, b.end - b.start);
}

export function runReanchorBench(options: ReanchorBenchOptions = {}): ReanchorBenchReport {
  const config = {
    highlights: options.highlights ?? 100_000,
    chapters: options.chapters ?? 30,
    paragraphs: options.paragraphs ?? 100,
    seed: options.seed ?? 1,
    rekey: options.rekey ?? false,
  };
  const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  const rnd = seededRandom(config.seed);
  let t0 = performance.now();
  const book = generateBook(rnd, config.chapters, config.paragraphs, config.rekey);
  const samples = sampleHighlights(rnd, book, config.highlights);
  const generate = performance.now() - t0;

  const rev2Chapters = book.rev2.map((c) => ({ id: c.id, text: textOf(c.paras) }));
  const rev2Text = new Map(rev2Chapters.map((c) => [c.id, c.text]));
  t0 = performance.now();
  const matcher = new RevisionMatcher(rev2Chapters);
  const buildMatcher = performance.now() - t0;

  const results: ReanchorResult[] = new Array(samples.length);
  let slowestBatch = 0;
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  for (let from = 0; from < samples.length; from += BATCH) {
    const batchStart = performance.now();
    for (let i = from; i < Math.min(samples.length, from + BATCH); i += 1) {
      const { anchor, chapterIndex } = samples[i]!;
      results[i] = matcher.reanchor(anchor, { chapterIndex });
    }
    slowestBatch = Math.max(slowestBatch, performance.now() - batchStart);
  }
  const reanchorMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // CPU time is reported beside wall time: on a shared machine other processes stretch the
  // wall clock, while CPU time is what the algorithm itself costs (it is single-threaded).
  const reanchorCpuMs = (cpu.user + cpu.system) / 1000;

  const outcomes = { unchanged: 0, movedExact: 0, movedFuzzy: 0, orphaned: 0 };
  const truthCounts = { intact: 0, edited: 0, deleted: 0 };
  let textEquals = 0;
  let intactOk = 0;
  let editedOk = 0;
  let deletedOk = 0;
  let misplaced = 0;
  for (const [i, result] of results.entries()) {
    const { anchor, truth } = samples[i]!;
    truthCounts[truth.kind] += 1;
    if (result.status === 'ORPHANED') outcomes.orphaned += 1;
    else if (result.status === 'UNCHANGED') outcomes.unchanged += 1;
    else if (result.method === 'exact') outcomes.movedExact += 1;
    else outcomes.movedFuzzy += 1;
    if (result.status === 'ORPHANED') {
      if (truth.kind === 'deleted') deletedOk += 1;
      continue;
    }
    const placed = result.anchor;
    if (rev2Text.get(placed.chapterId)!.slice(placed.start, placed.end) === anchor.exact) textEquals += 1;
    if (truth.kind === 'deleted') misplaced += 1;
    else if (truth.kind === 'intact') {
      if (placed.chapterId === truth.chapterId && placed.start === truth.start && placed.end === truth.end) intactOk += 1;
      else misplaced += 1;
    } else if (placed.chapterId === truth.chapterId && overlap(placed, truth) >= 0.5) editedOk += 1;
    else misplaced += 1;
  }
  const ratio = (n: number, d: number): number => (d === 0 ? 1 : Math.round((n / d) * 10_000) / 10_000);
  const cpus = os.cpus();
  const report: ReanchorBenchReport = {
    config,
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', node: process.version, loadAverage },
    bookChars: {
      rev1: book.rev1.reduce((n, c) => n + textOf(c.paras).length, 0),
      rev2: rev2Chapters.reduce((n, c) => n + c.text.length, 0),
    },
    timingsMs: {
      generate: Math.round(generate),
      buildMatcher: Math.round(buildMatcher),
      reanchor: Math.round(reanchorMs),
      reanchorCpu: Math.round(reanchorCpuMs),
      slowestBatch: Math.round(slowestBatch * 10) / 10,
    },
    highlightsPerSecond: Math.round(samples.length / (reanchorMs / 1000)),
    highlightsPerCpuSecond: Math.round(samples.length / (reanchorCpuMs / 1000)),
    outcomes,
    truth: truthCounts,
    correctness: {
      textEqualsExact: ratio(textEquals, samples.length),
      intactPlacedCorrectly: ratio(intactOk, truthCounts.intact),
      editedLocated: ratio(editedOk, truthCounts.edited),
      deletedOrphaned: ratio(deletedOk, truthCounts.deleted),
      misplaced,
    },
  };
  if (options.outDir === null) return report;
  return { ...report, files: writeResults(report, options.outDir ?? path.join('bench', 'results')) };
}

function writeResults(report: ReanchorBenchReport, outDir: string): { json: string; md: string } {
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = path.join(outDir, `reanchor-${stamp}.json`);
  const md = path.join(outDir, `reanchor-${stamp}.md`);
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  const { config, machine, bookChars, timingsMs, outcomes, truth, correctness } = report;
  const lines = [
    `# Re-anchoring benchmark (pure algorithm), ${stamp}`,
    '',
    `${config.highlights} highlights over ${config.chapters} chapters × ${config.paragraphs} paragraphs ` +
      `(${bookChars.rev1} → ${bookChars.rev2} characters), seed ${config.seed}` +
      `${config.rekey ? ', every chapter re-keyed' : ''}; ` +
      `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| **highlights/s** (wall clock) | **${report.highlightsPerSecond}** |`,
    `| highlights/s (CPU time) | ${report.highlightsPerCpuSecond} |`,
    `| re-anchor time | ${timingsMs.reanchor} ms wall, ${timingsMs.reanchorCpu} ms CPU (slowest batch of ${BATCH}: ${timingsMs.slowestBatch} ms) |`,
    `| load average at start (1 min) | ${machine.loadAverage} |`,
    `| build matcher (index revision) | ${timingsMs.buildMatcher} ms |`,
    `| unchanged / moved exact / moved fuzzy / orphaned | ${outcomes.unchanged} / ${outcomes.movedExact} / ${outcomes.movedFuzzy} / ${outcomes.orphaned} |`,
    `| truth: intact / edited / deleted | ${truth.intact} / ${truth.edited} / ${truth.deleted} |`,
    `| new text equals old exact (all) | ${correctness.textEqualsExact} |`,
    `| intact placed at the right offsets | ${correctness.intactPlacedCorrectly} |`,
    `| edited located (≥ 50 % overlap) | ${correctness.editedLocated} |`,
    `| deleted → orphaned | ${correctness.deletedOrphaned} |`,
    `| misplaced | ${correctness.misplaced} |`,
    '',
  ];
  writeFileSync(md, lines.join('\n'));
  return { json, md };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      highlights: { type: 'string' },
      chapters: { type: 'string' },
      paragraphs: { type: 'string' },
      seed: { type: 'string' },
      rekey: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const int = (name: string, value: string | undefined, max: number): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const options: ReanchorBenchOptions = {
    ...(values.highlights !== undefined ? { highlights: int('highlights', values.highlights, 10_000_000) } : {}),
    ...(values.chapters !== undefined ? { chapters: int('chapters', values.chapters, 1000) } : {}),
    ...(values.paragraphs !== undefined ? { paragraphs: int('paragraphs', values.paragraphs, 10_000) } : {}),
    ...(values.seed !== undefined ? { seed: int('seed', values.seed, 2 ** 31) } : {}),
    ...(values.rekey === true ? { rekey: true } : {}),
    ...(values.out !== undefined ? { outDir: values.out } : {}),
  };
  const report = runReanchorBench(options);
  console.log(JSON.stringify(report, null, 2));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
