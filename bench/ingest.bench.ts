/**
 * EPUB ingest throughput: build a large synthetic EPUB, parse it, report MB/s and paragraphs/s
 * per stage. Run: npm run bench:ingest [-- --mb 40 --zh-mb 10]
 * Writes bench/results/ingest-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildEpub, epubFiles } from '../subgraphs/catalog/epub/build.js';
import { parseEpub } from '../subgraphs/catalog/epub/parse.js';
import type { EpubStage } from '../subgraphs/catalog/epub/parse.js';
import { generateSyntheticBook } from '../subgraphs/catalog/demo/index.js';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '40' }, 'zh-mb': { type: 'string', default: '10' }, 'chapter-chars': { type: 'string', default: '5000000' } },
});
const MiB = 1024 * 1024;

interface RunResult {
  language: string;
  /** What was measured: a many-chapter book of a size, or one chapter (a single-file novel). */
  shape: string;
  chapters: number;
  paragraphs: number;
  epubBytes: number;
  xhtmlBytes: number;
  textChars: number;
  words: number;
  buildSeconds: number;
  parseSeconds: number;
  stageSeconds: Partial<Record<EpubStage, number>>;
  xhtmlMiBPerSecond: number;
  paragraphsPerSecond: number;
  peakRssMiB: number;
}

/** `target`: MiB of XHTML spread over 500-paragraph chapters, or `{ chapterChars }` for one chapter of that many characters. */
async function run(language: string, target: number | { chapterChars: number }, seed: number): Promise<RunResult> {
  // Average generated paragraph: ~400 UTF-8 bytes (English) or ~330 (Chinese, 3 bytes a character).
  const bytesPerParagraph = language === 'en' ? 400 : 330;
  const single = typeof target === 'object';
  const paragraphsPerChapter = single ? Math.ceil(target.chapterChars / (language === 'en' ? 395 : 110)) : 500;
  const chapters = single ? 1 : Math.max(1, Math.round((target * MiB) / (bytesPerParagraph * paragraphsPerChapter)));
  const source = generateSyntheticBook({ chapters, paragraphsPerChapter, seed, language });
  const xhtmlBytes = epubFiles(source)
    .filter(([name]) => name.endsWith('.xhtml'))
    .map(([name, content]) => [name, String(content)] as const)
    .reduce((sum, [, content]) => sum + Buffer.byteLength(content), 0);
  const shape = single ? `one chapter of ~${(target.chapterChars / 1e6).toFixed(1)} M characters` : `${chapters} chapters`;

  let started = performance.now();
  const epub = await buildEpub(source);
  const buildSeconds = (performance.now() - started) / 1000;

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const stageStarts: Array<[EpubStage, number]> = [];
  started = performance.now();
  const book = await parseEpub(epub, {}, { onStage: (stage) => void stageStarts.push([stage, performance.now()]) });
  const ended = performance.now();
  clearInterval(sampler);

  const stageSeconds: Partial<Record<EpubStage, number>> = {};
  stageStarts.forEach(([stage, at], i) => (stageSeconds[stage] = ((stageStarts[i + 1]?.[1] ?? ended) - at) / 1000));
  const parseSeconds = (ended - started) / 1000;
  const paragraphs = book.chapters.reduce((sum, c) => sum + c.paragraphs.length, 0);
  return {
    language,
    shape,
    chapters: book.chapters.length,
    paragraphs,
    epubBytes: epub.length,
    xhtmlBytes,
    textChars: book.chapters.reduce((sum, c) => sum + c.text.length, 0),
    words: book.wordCount,
    buildSeconds: round(buildSeconds),
    parseSeconds: round(parseSeconds),
    stageSeconds: Object.fromEntries(Object.entries(stageSeconds).map(([k, v]) => [k, round(v)])),
    xhtmlMiBPerSecond: round(xhtmlBytes / MiB / parseSeconds),
    paragraphsPerSecond: Math.round(paragraphs / parseSeconds),
    peakRssMiB: Math.round(peakRss / MiB),
  };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

const loadBefore = loadavg()[0]!;
// The single-chapter novel first, so its peak RSS is not raised by what the larger runs left behind.
const runs = [
  await run('en', { chapterChars: Number(values['chapter-chars']) }, 3),
  await run('en', Number(values.mb), 1),
  await run('zh', Number(values['zh-mb']), 2),
];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const result = {
  benchmark: 'ingest',
  at: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpus: cpus().length,
  loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0]!) },
  runs,
};

const table = [
  '| language | shape | EPUB MiB | XHTML MiB | chapters | paragraphs | text M chars | parse s | FORMATTING s | PARSING s | SPLITTING s | XHTML MiB/s | paragraphs/s | peak RSS MiB |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...runs.map(
    (r) =>
      `| ${r.language} | ${r.shape} | ${(r.epubBytes / MiB).toFixed(1)} | ${(r.xhtmlBytes / MiB).toFixed(1)} | ${r.chapters} | ${r.paragraphs} | ${(r.textChars / 1e6).toFixed(2)} | ${r.parseSeconds} | ${r.stageSeconds.FORMATTING} | ${r.stageSeconds.PARSING} | ${r.stageSeconds.SPLITTING} | ${r.xhtmlMiBPerSecond} | ${r.paragraphsPerSecond} | ${r.peakRssMiB} |`,
  ),
];
function slowestStage(): string {
  const totals = new Map<string, number>();
  for (const r of runs) for (const [stage, seconds] of Object.entries(r.stageSeconds)) totals.set(stage, (totals.get(stage) ?? 0) + seconds);
  return [...totals].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'n/a';
}

const markdown = `# EPUB ingest benchmark

${result.at}, Node ${result.node}, ${result.platform}, ${result.cpus} CPUs, 1-minute load ${result.loadAverage1m.before} → ${result.loadAverage1m.after}. Synthetic books (generateSyntheticBook), built with buildEpub and parsed
with parseEpub at default limits. Slowest stage: ${slowestStage()}. PARSING = XHTML → text blocks + sanitized
HTML; SPLITTING = paragraphs, offsets, word counts, hashes. Timings on a shared machine are noisy.

${table.join('\n')}
`;

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, `ingest-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
await writeFile(join(outDir, `ingest-${stamp}.md`), markdown);
console.log(markdown);
