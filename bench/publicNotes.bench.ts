/**
 * `publicNoteAdded` fan-out through the gateway: a public note on one paragraph is resolved once per
 * subscriber (ugc's per-event query with that reader's identity, catalog's access check and
 * `paragraph { text }` included). Baseline in the same run: one subscriber; then `--readers`
 * subscribers of the same paragraph. Notes are written one at a time, each waiting for all its
 * deliveries (or 30 s), so the figures are per note, not under a queue.
 *
 * Run: npm run bench:public-notes [-- --readers 20 --notes 20]
 * Writes bench/results/public-notes-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { eventually, mustQuery, startTestPlatform } from '../test/kit/platform.js';
import { collect, wsConnect, type Received, type WsConnection } from '../test/kit/subscriptions.js';
import { CREATE_NOTE, counterTotal } from '../test/kit/ugc.js';
import { BENCH_ENV, percentile, round, seedLibrary } from './support.js';

const NOTES = /* GraphQL */ `subscription($p: ID!) { publicNoteAdded(paragraphId: $p) { id text author { id } paragraph { text } } }`;

interface Phase {
  readonly subscribers: number;
  readonly deliveries: number;
  readonly expected: number;
  /** Mutation answered → each delivery. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Mutation answered → the last subscriber's delivery, per note. */
  readonly lastP50Ms: number;
}

export async function runPublicNotesBench(options: { readers: number; notes: number; outDir?: string }) {
  await using platform = await startTestPlatform({
    env: { ...BENCH_ENV, FOLIO_GATEWAY_RATE_LIMIT_USER: '100000/60', FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '100000' },
  });
  const gateway = platform.gateway;
  const library = await seedLibrary(gateway, options.readers + 1);
  const [writer, ...readers] = library.users;
  const chapter = library.chapters[0]!;
  const paragraph = chapter.paragraphs.edges[0]!.node;
  const range = { chapterId: chapter.id, start: paragraph.startOffset, end: Math.min(paragraph.endOffset, paragraph.startOffset + 20) };

  const connections: WsConnection[] = [];
  const streams: Received[] = [];
  const active = (n: number) => eventually(async () => ((await counterTotal(gateway, 'folio_gateway_subscriptions')) === n ? true : null), { timeoutMs: 60_000, intervalMs: 50 });

  async function phase(subscribers: number): Promise<Phase> {
    while (streams.length < subscribers) {
      const connection = wsConnect(gateway, readers[streams.length]!.token);
      connections.push(connection);
      await connection.opened;
      streams.push(collect(connection.client, NOTES, { p: paragraph.id }));
    }
    await active(subscribers);
    const latencies: number[] = [];
    const lasts: number[] = [];
    for (let i = 0; i < options.notes; i++) {
      const before = streams.map((s) => s.events.length);
      const { createNote } = await mustQuery<{ createNote: { id: string } }>(gateway, CREATE_NOTE, { input: { range, text: `note ${subscribers}-${i}`, visibility: 'PUBLIC' } }, { token: writer!.token });
      const answered = performance.now();
      const arrived = streams.map(() => -1);
      const deadline = answered + 30_000;
      while (arrived.some((t) => t < 0) && performance.now() < deadline) {
        streams.forEach((s, k) => {
          if (arrived[k]! < 0 && s.events.slice(before[k]).some((e) => e.data?.publicNoteAdded?.id === createNote.id)) arrived[k] = performance.now() - answered;
        });
        await new Promise((r) => setTimeout(r, 1));
      }
      const got = arrived.filter((t) => t >= 0);
      latencies.push(...got);
      if (got.length === streams.length) lasts.push(Math.max(...got));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      subscribers,
      deliveries: latencies.length,
      expected: subscribers * options.notes,
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      lastP50Ms: round(percentile([...lasts].sort((a, b) => a - b), 50)),
    };
  }

  const load = [loadavg()[0]!];
  const baseline = await phase(1);
  load.push(loadavg()[0]!);
  const fanOut = await phase(options.readers);
  load.push(loadavg()[0]!);
  await Promise.all(connections.map((c) => c.dispose()));

  const report = {
    benchmark: 'public-notes' as const,
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    notes: options.notes,
    baseline,
    fanOut,
    /** Per-delivery p50 with N subscribers over the one-subscriber p50, same run. */
    p50Ratio: round(fanOut.p50Ms / Math.max(0.001, baseline.p50Ms)),
    lastP50Ratio: round(fanOut.lastP50Ms / Math.max(0.001, baseline.lastP50Ms)),
    loadAverage1m: load.map(round),
  };
  console.log(JSON.stringify(report));
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  await mkdir(options.outDir, { recursive: true });
  const row = (p: Phase) => `| ${p.subscribers} | ${p.deliveries}/${p.expected} | ${p.p50Ms} / ${p.p99Ms} | ${p.lastP50Ms} |`;
  const md = `# publicNoteAdded fan-out

${report.at}, Node ${report.node}, ${report.cpus} CPUs, load average (1 min) ${report.loadAverage1m.join(' → ')}. One platform and
its clients in one process; graphql-ws; ${report.notes} public notes per row on one paragraph, one at a time, each delivered to every
subscriber (one per reader), selection \`{ id text author { id } paragraph { text } }\` resolved per reader.

| subscribers | deliveries | answer→event p50 / p99 ms | answer→last subscriber p50 ms |
| ---: | ---: | ---: | ---: |
${row(baseline)}
${row(fanOut)}

Ratio, ${fanOut.subscribers} subscribers vs 1 (same run): per-delivery p50 ×${report.p50Ratio}, last-subscriber p50 ×${report.lastP50Ratio}.
Each delivery is one federated execution (ugc's \`publicNoteAddition\` with its catalog access check, accounts for
\`author\`, catalog for \`paragraph\`): the cost grows with the number of readers of the paragraph.
`;
  await writeFile(join(options.outDir, `public-notes-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(options.outDir, `public-notes-${stamp}.md`), md);
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { readers: { type: 'string', default: '20' }, notes: { type: 'string', default: '20' } } });
  await runPublicNotesBench({ readers: Number(values.readers), notes: Number(values.notes), outDir: join(dirname(fileURLToPath(import.meta.url)), 'results') });
}
