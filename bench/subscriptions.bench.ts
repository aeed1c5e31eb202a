/**
 * Subscriptions through the gateway: idle connections and memory per connection in the gateway
 * process, and the latency from a progress mutation (sent through the gateway) to each of the user's
 * subscribed devices receiving the event (book title resolved per event), at a steady event rate,
 * for several scenarios: N subscribers (users × devices) on one gateway, or spread over two gateways
 * that share the real Redis (FOLIO_REDIS_URL, default redis://127.0.0.1:6379; one follows ugc's
 * feed and fans events out through pub/sub, gateway/subscriptions/redisFanout.ts).
 *
 * The platform (subgraphs) and the gateways run in this process; the clients run in a child
 * process (subscriptionsClients.ts): the memory per connection is the gateway side only, and
 * 10,000 client sockets plus 10,000 server sockets would not fit one process's file limit.
 * Latencies include the clients' own work and the IPC-free timestamping on both sides (one clock).
 *
 * Run: npm run bench:subscriptions [-- --scenarios 1000:1,1000:2,10000:1 --devices 10 --events 300 --mutations 100 --rate 100]
 * Writes bench/results/subscriptions-<timestamp>.json and .md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startGateway, type RunningGateway } from '../gateway/server.js';
import { SyncHub } from '../gateway/subscriptions/feed.js';
import type { FolioEvent } from '../lib/events.js';
import { graphql, startTestPlatform } from '../test/kit/platform.js';
import { UPDATE_PROGRESS } from '../test/kit/ugc.js';
import { BENCH_ENV, percentile, round, seedLibrary } from './support.js';

export interface Scenario {
  readonly subscribers: number;
  /** 1: the platform's gateway (no Redis); 2: two more gateways sharing Redis, clients spread over both. */
  readonly gateways: 1 | 2;
}

export interface SubscriptionsBenchOptions {
  readonly scenarios: readonly Scenario[];
  /** Devices (connections) per user. */
  readonly devices: number;
  /** Events replayed into the gateways per scenario (real changes made beforehand). */
  readonly events: number;
  /** Events (and mutations) per second. */
  readonly rate: number;
  /** Mutations sent per scenario (end to end through the store). */
  readonly mutations: number;
  readonly redisUrl: string;
  readonly outDir?: string;
}

const PROGRESS = /* GraphQL */ `subscription { readingProgressChanged { deviceId percent book { title } } }`;
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

interface Clients {
  request<T extends { type: string }>(message: object, answer: T['type']): Promise<T>;
  stop(): void;
}

async function startClients(): Promise<Clients> {
  const child: ChildProcess = fork(join(dirname(fileURLToPath(import.meta.url)), 'subscriptionsClients.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<string, (message: never) => void>();
  child.on('message', (message: { type: string }) => {
    const resolve = waiting.get(message.type);
    waiting.delete(message.type);
    resolve?.(message as never);
  });
  const request = <T extends { type: string }>(message: object | undefined, answer: string): Promise<T> =>
    new Promise((resolve) => {
      waiting.set(answer, resolve as never);
      if (message) child.send(message);
    });
  await request(undefined, 'ready');
  return { request, stop: () => void child.kill() };
}

/** The gateways' subscription metrics (closes by code, events by outcome, active subscriptions), summed. */
async function subscriptionMetrics(opsUrls: readonly string[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const base of opsUrls) {
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!/^folio_gateway_subscription(s|_closed_total|_events_total|_refused_total)[{ ]/.test(line)) continue;
      const key = line.slice(0, line.lastIndexOf(' ')).replace(/,?service="gateway"/, '');
      totals[key] = (totals[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return totals;
}

async function subscriptionGauge(opsUrls: readonly string[]): Promise<number> {
  let total = 0;
  for (const base of opsUrls) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('folio_gateway_subscriptions{') || l.startsWith('folio_gateway_subscriptions '));
    total += Number(line?.split(' ').at(-1) ?? 0);
  }
  return total;
}

// Bench-only probe: when each event reached a gateway's hub (the first gateway, with two), by the
// deviceId the benchmark tags it with. Hub→event is then the subscription path alone: per-event
// query through the executor, send, client.
const hubAt = new Map<string, number>();
// The events of the changes made before the scenarios ("pre-<i>"), as the platform's gateway (the
// first hub to publish anything) received them: replayed at the target rate into the gateways.
const recorded = new Map<string, FolioEvent>();
let platformHub: SyncHub | undefined;
const publish = SyncHub.prototype.publish;
SyncHub.prototype.publish = function (this: SyncHub, event) {
  // The platform's gateway starts first, so its hub is the first to publish.
  // eslint-disable-next-line @typescript-eslint/no-this-alias
  platformHub ??= this;
  const tag = event.payload.deviceId;
  if (typeof tag === 'string' && !hubAt.has(tag)) hubAt.set(tag, now());
  if (this === platformHub && typeof tag === 'string' && tag.startsWith('pre-') && !recorded.has(tag)) recorded.set(tag, event);
  return publish.call(this, event);
};

export async function runSubscriptionsBench(options: SubscriptionsBenchOptions) {
  const maxSubscribers = Math.max(...options.scenarios.map((s) => s.subscribers));
  const users = Math.ceil(maxSubscribers / options.devices);
  const env = {
    ...BENCH_ENV,
    // Raised for the bench only: every client is 127.0.0.1 and one user has `devices` devices.
    FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: String(options.devices),
    FOLIO_GATEWAY_RATE_LIMIT_USER: '1000000/60',
    FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS: '100000',
    FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: '100000',
    FOLIO_GATEWAY_MAX_IN_FLIGHT: '100000',
  };
  await using platform = await startTestPlatform({ env });
  const gateway = platform.gateway;
  const seedStarted = performance.now();
  const library = await seedLibrary(gateway, users);
  console.error(`seeded ${users} users in ${Math.round((performance.now() - seedStarted) / 1000)} s`);
  // Real changes, made before any subscriber connects at a rate the store sustains, whose events
  // are then replayed at the target rate: the gateway's side at 100 events/s whatever the store does.
  const preUsers = library.users.slice(0, Math.ceil(Math.min(...options.scenarios.map((s) => s.subscribers)) / options.devices));
  let nextChange = 0;
  const changesStarted = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (nextChange < options.events) {
        const i = nextChange++;
        const input = { offset: i, percent: (i % 100) + 0.5, clientTime: new Date(Date.now() + i).toISOString(), deviceId: `pre-${i}` };
        await graphql(gateway, UPDATE_PROGRESS, { bookId: library.bookId, input }, { token: preUsers[i % preUsers.length]!.token });
      }
    }),
  );
  for (let last = -1; recorded.size !== last; await sleep(1000)) last = recorded.size;
  console.error(`${recorded.size} changes to replay, made in ${Math.round((performance.now() - changesStarted) / 1000)} s`);
  const clients = await startClients();
  const publisher = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  publisher.on('error', () => undefined);

  const channel = `folio:bench:sync:${randomBytes(6).toString('hex')}`;
  const results = [];
  try {
    for (const scenario of options.scenarios) {
      let extra: RunningGateway[] = [];
      if (scenario.gateways === 2) {
        const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s!.url]));
        const config = { ...platform.config, redisUrl: options.redisUrl, gateway: { ...platform.config.gateway, subscriptions: { ...platform.config.gateway.subscriptions, channel }, cachePurgeChannel: `${channel}:purge` } };
        extra = [await startGateway(config, { subgraphUrls }), await startGateway(config, { subgraphUrls })];
      }
      try {
        const urls = scenario.gateways === 2 ? extra.map((g) => g.url) : [gateway];
        const opsUrls = scenario.gateways === 2 ? extra.map((g) => g.opsUrl) : [gateway.replace(/\/graphql$/, '')];
        const scenarioUsers = library.users.slice(0, Math.ceil(scenario.subscribers / options.devices));
        const heapBefore = heap();
        const rssBefore = process.memoryUsage().rss;
        const connectStarted = performance.now();
        const opened = await clients.request<{ type: 'opened'; connections: number; failed: number }>({ type: 'open', urls, tokens: scenarioUsers.map((u) => u.token), devices: options.devices, query: PROGRESS }, 'opened');
        // Every subscription active (its dry run answered) before events are sent.
        const deadline = performance.now() + 600_000;
        let active = 0;
        while ((active = await subscriptionGauge(opsUrls)) < opened.connections && performance.now() < deadline) await sleep(250);
        const connectSeconds = (performance.now() - connectStarted) / 1000;
        await sleep(1000);
        const heapPerConnection = (heap() - heapBefore) / opened.connections;
        const rssPerConnection = (process.memoryUsage().rss - rssBefore) / opened.connections;
        console.error(`${scenario.subscribers}×${scenario.gateways}: ${opened.connections} connections (${opened.failed} failed), ${active} subscriptions in ${round(connectSeconds)} s`);

        // Replay: the recorded events at `rate` into the platform's gateway's hub, or through Redis
        // (the fan-out channel both extra gateways subscribe to).
        const replay = [...recorded.values()];
        const replaySent = new Map<string, number>();
        const replayLatencies: number[] = [];
        let errors = 0;
        const latencies: number[] = [];
        const afterAnswer: number[] = [];
        const afterHub: number[] = [];
        const sentAt = new Map<string, number>();
        const answeredAt = new Map<string, number>();
        const drain = async (): Promise<void> => {
          const batch = await clients.request<{ type: 'arrivals'; arrivals: Array<[string, number]>; errors: number }>({ type: 'collect' }, 'arrivals');
          errors += batch.errors;
          for (const [tag, at] of batch.arrivals) {
            const replayed = replaySent.get(tag);
            if (replayed !== undefined) replayLatencies.push(at - replayed);
            const from = sentAt.get(tag);
            if (from !== undefined) latencies.push(at - from);
            const answered = answeredAt.get(tag);
            if (answered !== undefined) afterAnswer.push(at - answered);
            const reachedHub = hubAt.get(tag);
            if (reachedHub !== undefined && from !== undefined) afterHub.push(at - reachedHub);
          }
        };
        const replayLoad = loadavg()[0]!;
        const replayStarted = performance.now();
        for (let i = 0; i < replay.length; i++) {
          const wait = replayStarted + (i * 1000) / options.rate - performance.now();
          if (wait > 0) await sleep(wait);
          const event = replay[i]!;
          replaySent.set(event.payload.deviceId as string, now());
          if (scenario.gateways === 2) void publisher.publish(channel, JSON.stringify(event));
          else platformHub!.publish(event);
        }
        const replayRate = replay.length / ((performance.now() - replayStarted) / 1000);
        const replayExpected = replay.length * options.devices;
        for (const until = performance.now() + 60_000; replayLatencies.length < replayExpected && performance.now() < until; await sleep(200)) await drain();
        const sortedReplay = [...replayLatencies].sort((a, b) => a - b);
        console.error(`replay: ${replayLatencies.length}/${replayExpected} at ${round(replayRate)}/s, p50 ${round(percentile(sortedReplay, 50))} p99 ${round(percentile(sortedReplay, 99))} ms`);

        const userOf = new Map<string, number>();
        const mutationMs: number[] = [];
        const mutations: Array<Promise<boolean>> = [];
        const gapMs = 1000 / options.rate;
        const started = performance.now();
        for (let i = 0; i < options.mutations; i++) {
          const u = i % scenarioUsers.length;
          const user = scenarioUsers[u]!;
          const tag = `bench-${scenario.subscribers}-${scenario.gateways}-${i}`;
          const wait = started + i * gapMs - performance.now();
          if (wait > 0) await sleep(wait);
          const from = now();
          sentAt.set(tag, from);
          userOf.set(tag, u);
          mutations.push(
            graphql<{ updateProgress: { applied: boolean } }>(gateway, UPDATE_PROGRESS, { bookId: library.bookId, input: { offset: i, percent: (i % 100) + 0.5, clientTime: new Date(Date.now() + i).toISOString(), deviceId: tag } }, { token: user.token }).then((r) => {
              answeredAt.set(tag, now());
              mutationMs.push(now() - from);
              return r.data?.updateProgress.applied === true;
            }),
          );
        }
        const sendSeconds = (performance.now() - started) / 1000;
        const load1 = Math.max(replayLoad, loadavg()[0]!);
        const applied = (await Promise.all(mutations)).filter(Boolean).length;
        // A mutation the gateway gave up on (subgraph timeout under the backlog) may still commit and
        // send its event: expected deliveries are the events that reached the gateway, to every device.
        const settleUntil = performance.now() + 30_000;
        let reached = 0;
        for (let last = -1; performance.now() < settleUntil; await sleep(1000)) {
          reached = [...sentAt.keys()].filter((tag) => hubAt.has(tag)).length;
          if (reached === last) break;
          last = reached;
        }
        const hubTimes = [...sentAt.keys()].map((tag) => hubAt.get(tag)).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
        const hubRate = hubTimes.length > 1 ? (hubTimes.length - 1) / ((hubTimes.at(-1)! - hubTimes[0]!) / 1000) : 0;
        const expected = reached * options.devices;
        for (const until = performance.now() + 60_000; latencies.length < expected && performance.now() < until; await sleep(200)) await drain();
        const gatewayMetrics = await subscriptionMetrics(opsUrls);
        await clients.request({ type: 'close' }, 'closed');
        const sorted = [...latencies].sort((a, b) => a - b);
        const sortedMutation = [...mutationMs].sort((a, b) => a - b);
        const sortedAfter = [...afterAnswer].sort((a, b) => a - b);
        const sortedHub = [...afterHub].sort((a, b) => a - b);
        const result = {
          subscribers: scenario.subscribers,
          gateways: scenario.gateways,
          users: scenarioUsers.length,
          connections: opened.connections,
          failedConnections: opened.failed,
          connectSeconds: round(connectSeconds),
          heapBytesPerConnection: scenario.gateways === 1 ? Math.round(heapPerConnection) : undefined,
          rssBytesPerConnection: scenario.gateways === 1 ? Math.round(rssPerConnection) : undefined,
          replayedEvents: replay.length,
          replayRate: round(replayRate),
          replayDeliveries: replayLatencies.length,
          replayExpectedDeliveries: replayExpected,
          /** From publishing a replayed event into the gateway's hub (or Redis) to the client receiving it. */
          replayP50Ms: round(percentile(sortedReplay, 50)),
          replayP99Ms: round(percentile(sortedReplay, 99)),
          mutations: options.mutations,
          rate: options.rate,
          achievedRate: round(options.mutations / sendSeconds),
          appliedMutations: applied,
          /** Events (of this scenario's mutations) that reached the gateway, and their rate there. */
          eventsAtGateway: reached,
          eventRateAtGateway: round(hubRate),
          deliveries: latencies.length,
          expectedDeliveries: expected,
          errorEvents: errors,
          p50Ms: round(percentile(sorted, 50)),
          p99Ms: round(percentile(sorted, 99)),
          maxMs: round(sorted.at(-1) ?? 0),
          mutationP50Ms: round(percentile(sortedMutation, 50)),
          mutationP99Ms: round(percentile(sortedMutation, 99)),
          /** From the mutation's answer (the change committed) to the event; events before the answer count as 0. */
          afterAnswerP50Ms: round(Math.max(0, percentile(sortedAfter, 50))),
          afterAnswerP99Ms: round(Math.max(0, percentile(sortedAfter, 99))),
          /** From the event reaching the (first) gateway's hub to the client receiving it. */
          hubP50Ms: round(percentile(sortedHub, 50)),
          hubP99Ms: round(percentile(sortedHub, 99)),
          loadAverage1m: round(Math.max(load1, loadavg()[0]!)),
          /** The gateways' own counters at the end of the scenario (cumulative over scenarios for the platform's gateway). */
          gatewayMetrics,
        };
        console.error(JSON.stringify(result));
        results.push(result);
      } finally {
        for (const g of extra) await g.stop();
      }
      // The server side of the closed connections is gone before the next scenario measures.
      await sleep(2000);
    }
  } finally {
    clients.stop();
    publisher.disconnect();
    const admin = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
    await admin.del(`${channel}:leader`, `${channel}:cursor`).catch(() => 0);
    admin.disconnect();
  }

  const report = { benchmark: 'subscriptions' as const, at: new Date().toISOString(), node: process.version, cpus: availableParallelism(), devices: options.devices, events: options.events, mutations: options.mutations, rate: options.rate, loadAverage: loadavg().map(round), results };
  console.log(JSON.stringify(report));
  if (!options.outDir) return report;
  const stamp = report.at.replace(/[:.]/g, '-');
  await mkdir(options.outDir, { recursive: true });
  const base = results[0];
  const rows = results
    .map(
      (r) =>
        `| ${r.subscribers} | ${r.gateways === 2 ? '2 (Redis)' : '1'} | ${r.connections}${r.failedConnections ? ` (+${r.failedConnections} failed)` : ''} | ${r.connectSeconds} s | ${r.replayDeliveries}/${r.replayExpectedDeliveries} at ${r.replayRate}/s: ${r.replayP50Ms} / ${r.replayP99Ms}${base && r !== base && base.replayP50Ms > 0 ? ` (${(r.replayP50Ms / base.replayP50Ms).toFixed(2)}× / ${(r.replayP99Ms / Math.max(0.1, base.replayP99Ms)).toFixed(2)}×)` : ''} | ${r.heapBytesPerConnection !== undefined ? `${(r.heapBytesPerConnection / 1024).toFixed(1)} KiB / ${(r.rssBytesPerConnection! / 1024).toFixed(1)} KiB` : '—'} | ${r.achievedRate}/s | ${r.appliedMutations} | ${r.eventsAtGateway} at ${r.eventRateAtGateway}/s | ${r.deliveries}/${r.expectedDeliveries} | ${r.p50Ms} / ${r.p99Ms} | ${r.mutationP50Ms} / ${r.mutationP99Ms} | ${r.hubP50Ms} / ${r.hubP99Ms}${base && r !== base && base.hubP50Ms > 0 ? ` (${(r.hubP50Ms / base.hubP50Ms).toFixed(2)}× / ${(r.hubP99Ms / Math.max(0.1, base.hubP99Ms)).toFixed(2)}×)` : ''} | ${r.loadAverage1m} |`,
    )
    .join('\n');
  const md = `# Subscriptions benchmark

${report.at}, Node ${report.node}, ${report.cpus} CPUs (shared), load average at the end ${report.loadAverage.join(' / ')}. The platform and the
gateways in one process, the clients (graphql-ws) in another. Each subscriber holds one
\`readingProgressChanged { deviceId percent book { title } }\`; ${options.devices} devices (connections) per user.
Replayed events: ${report.events} real progress changes of the first users, made before the scenarios, whose events are
published again at ${report.rate}/s into the gateway's hub (one gateway) or on the Redis channel (two gateways): the
gateway's side at the target rate, each event resolved through the executor (ugc by seq, catalog for the title)
once per user and gateway and sent to the user's ${options.devices} devices; the other subscribers stay idle.
Mutations: ${report.mutations} progress mutations sent at ${report.rate}/s through the platform's gateway, round-robin over the
scenario's users: end to end, store included.
Two gateways: both share the Redis at FOLIO_REDIS_URL (one follows ugc's feed and publishes), clients alternate between them.

| subscribers | gateways | connections | connect + subscribe | replayed events: deliveries at rate, publish→event p50 / p99 ms (vs first row) | heap / RSS per connection | sent | applied (answered) | events at the gateway | deliveries | send→event p50 / p99 ms | mutation p50 / p99 ms | hub→event p50 / p99 ms (vs first row) | load 1 m |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}

Heap / RSS per connection: the gateway process's growth (after GC) from before connecting to all
subscriptions active, divided by connections (one-gateway rows; the subgraphs share the process but
do no per-connection work). Send→event: from sending the mutation to the client receiving the event;
it includes the mutation's own queueing (the embedded store commits one transaction at a time).
The mutation's answer comes after its event is delivered (the answer waits for the store, the event
only for the commit), so answer→event is not a measure. Hub→event: from the event reaching the
gateway's hub (SyncHub.publish; with two gateways the first to get it) to the client receiving it:
the subscription path alone (queue, per-event query through the executor with catalog, send,
client). Expected deliveries: every event that reached the gateway, to each of its user's devices
(a mutation the gateway answered with a subgraph timeout under the store's backlog may still commit
and send its event; "applied" counts only the answered ones).
`;
  await writeFile(join(options.outDir, `subscriptions-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(options.outDir, `subscriptions-${stamp}.md`), md);
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: '1000:1,1000:2' },
      devices: { type: 'string', default: '10' },
      events: { type: 'string', default: '300' },
      mutations: { type: 'string', default: '100' },
      rate: { type: 'string', default: '100' },
    },
  });
  const scenarios = values.scenarios.split(',').map((s) => {
    const [subscribers, gateways] = s.split(':').map(Number);
    if (!subscribers || (gateways !== 1 && gateways !== 2)) throw new Error(`--scenarios: "${s}" is not subscribers:gateways (gateways 1 or 2)`);
    return { subscribers, gateways: gateways as 1 | 2 };
  });
  await runSubscriptionsBench({
    scenarios,
    devices: Number(values.devices),
    events: Number(values.events),
    mutations: Number(values.mutations),
    rate: Number(values.rate),
    redisUrl: process.env.FOLIO_REDIS_URL ?? 'redis://127.0.0.1:6379',
    outDir: join(dirname(fileURLToPath(import.meta.url)), 'results'),
  });
  process.exit(0);
}
