/**
 * Subscriptions through the gateway: memory per idle graphql-ws connection and the latency from a
 * progress mutation (sent through the gateway) to each of the user's subscribed devices receiving
 * the event (book title resolved per event), at a steady event rate.
 *
 * Clients and the platform run in this one process: the memory per connection includes the client
 * side (graphql-ws client + ws socket) and latencies include the clients' own work.
 *
 * Run: npm run bench:subscriptions [-- --users 20 --connections 10 --events 100 --rate 20]
 * Writes bench/results/subscriptions-<timestamp>.json and .md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../test/kit/platform.js';
import { collect, wsConnect, type Received, type WsConnection } from '../test/kit/subscriptions.js';
import { UPDATE_PROGRESS } from '../test/kit/ugc.js';
import { mustQuery } from '../test/kit/platform.js';
import { BENCH_ENV, percentile, round, seedLibrary } from './support.js';

export interface SubscriptionsBenchOptions {
  readonly users: number;
  readonly connectionsPerUser: number;
  readonly events: number;
  /** Mutations per second. */
  readonly rate: number;
  readonly outDir?: string;
}

const PROGRESS = /* GraphQL */ `subscription { readingProgressChanged { deviceId percent book { title } } }`;

const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

export async function runSubscriptionsBench(options: SubscriptionsBenchOptions) {
  await using platform = await startTestPlatform({
    env: { ...BENCH_ENV, FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: String(options.connectionsPerUser), FOLIO_GATEWAY_RATE_LIMIT_USER: '100000/60', FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '100000' },
  });
  const gateway = platform.gateway;
  const library = await seedLibrary(gateway, options.users);

  const before = heap();
  const rssBefore = process.memoryUsage().rss;
  const connections: WsConnection[] = [];
  const streams: Received[] = [];
  for (const user of library.users) {
    for (let c = 0; c < options.connectionsPerUser; c++) connections.push(wsConnect(gateway, user.token));
  }
  await Promise.all(connections.map((c) => c.opened));
  for (const connection of connections) streams.push(collect(connection.client, PROGRESS));
  await new Promise((r) => setTimeout(r, 1000 + connections.length)); // every dry run answered
  const perConnectionBytes = (heap() - before) / connections.length;
  const rssPerConnection = (process.memoryUsage().rss - rssBefore) / connections.length;

  // Arrival times per device tag, read from every stream as events come in.
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const mutations: Array<Promise<boolean>> = [];
  const mutationMs: number[] = [];
  const latencies: number[] = [];
  const afterAnswer: number[] = [];
  const seen = streams.map(() => 0);
  const poll = setInterval(() => {
    const now = performance.now();
    streams.forEach((s, i) => {
      for (; seen[i]! < s.events.length; seen[i]!++) {
        const tag = (s.events[seen[i]!]!.data?.readingProgressChanged as { deviceId?: string } | undefined)?.deviceId;
        const from = tag ? sentAt.get(tag) : undefined;
        if (from !== undefined) latencies.push(now - from);
        const answered = tag ? answeredAt.get(tag) : undefined;
        if (answered !== undefined) afterAnswer.push(now - answered);
      }
    });
  }, 1);

  const gapMs = 1000 / options.rate;
  const started = performance.now();
  for (let i = 0; i < options.events; i++) {
    const user = library.users[i % library.users.length]!;
    const tag = `bench-${i}`;
    const due = started + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const from = performance.now();
    sentAt.set(tag, from);
    mutations.push(
      mustQuery<{ updateProgress: { applied: boolean } }>(gateway, UPDATE_PROGRESS, { bookId: library.bookId, input: { offset: i, percent: (i % 100) + 0.5, clientTime: new Date(Date.now() + i).toISOString(), deviceId: tag } }, { token: user.token }).then((data) => {
        answeredAt.set(tag, performance.now());
        mutationMs.push(performance.now() - from);
        return data.updateProgress.applied;
      }),
    );
  }
  // A report overtaken by a newer one of the same user (concurrent requests) is not applied: no event.
  const applied = (await Promise.all(mutations)).filter(Boolean).length;
  const expected = applied * options.connectionsPerUser;
  const deadline = performance.now() + 30_000;
  while (latencies.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  clearInterval(poll);
  await Promise.all(connections.map((c) => c.dispose()));

  const sorted = [...latencies].sort((a, b) => a - b);
  const sortedMutation = [...mutationMs].sort((a, b) => a - b);
  const sortedAfter = [...afterAnswer].sort((a, b) => a - b);
  const report = {
    benchmark: 'subscriptions' as const,
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    users: options.users,
    connections: connections.length,
    events: options.events,
    rate: options.rate,
    heapBytesPerConnection: Math.round(perConnectionBytes),
    rssBytesPerConnection: Math.round(rssPerConnection),
    deliveries: latencies.length,
    expectedDeliveries: expected,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
    mutationP50Ms: round(percentile(sortedMutation, 50)),
    mutationP99Ms: round(percentile(sortedMutation, 99)),
    /** From the mutation's answer to the event (events that arrived before the answer count as 0). */
    afterAnswerP50Ms: round(Math.max(0, percentile(sortedAfter, 50))),
    afterAnswerP99Ms: round(Math.max(0, percentile(sortedAfter, 99))),
    appliedMutations: applied,
    loadAverage1m: round(loadavg()[0]!),
  };
  console.log(JSON.stringify(report));
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  await mkdir(options.outDir, { recursive: true });
  const md = `# Subscriptions benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs, load average ${report.loadAverage1m}. One gateway, platform and clients in one
process (memory and latency include the clients). ${report.connections} graphql-ws connections (${report.users} users × ${options.connectionsPerUser}
devices), one \`readingProgressChanged { deviceId percent book { title } }\` each; ${report.events} progress mutations at ${report.rate}/s,
each delivered to the ${options.connectionsPerUser} devices of its user (resolved once per event and user through the gateway's executor, catalog included, shared by the user's devices).

| connections | heap / connection | deliveries | send→event p50 / p99 ms | mutation p50 / p99 ms | answer→event p50 / p99 ms |
| ---: | ---: | ---: | ---: | ---: | ---: |
| ${report.connections} | ${(report.heapBytesPerConnection / 1024).toFixed(1)} KiB | ${report.deliveries}/${report.expectedDeliveries} | ${report.p50Ms} / ${report.p99Ms} | ${report.mutationP50Ms} / ${report.mutationP99Ms} | ${report.afterAnswerP50Ms} / ${report.afterAnswerP99Ms} |

Send→event: from sending the mutation to the event read from the client's stream (polled every ms).
Answer→event: from the mutation's answer (the change committed) to the event. Expected deliveries count
applied reports only (a report overtaken by a newer one of the same user makes no event).
`;
  await writeFile(join(options.outDir, `subscriptions-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(options.outDir, `subscriptions-${stamp}.md`), md);
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { users: { type: 'string', default: '20' }, connections: { type: 'string', default: '10' }, events: { type: 'string', default: '100' }, rate: { type: 'string', default: '20' } },
  });
  await runSubscriptionsBench({
    users: Number(values.users),
    connectionsPerUser: Number(values.connections),
    events: Number(values.events),
    rate: Number(values.rate),
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
}
