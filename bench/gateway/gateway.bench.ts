/**
 * Gateway benchmark on Folio's real subgraphs and supergraph: the same queries through the Folio
 * gateway, through a peer gateway (@graphql-hive/gateway on the same supergraph, sending our signed
 * identity headers) and straight at the subgraph, with autocannon. Writes
 * bench/results/gateway-<time>.{json,md}.
 *
 *   npm run bench:gateway     (BENCH_DURATION=8 BENCH_WARMUP=2 BENCH_CONNECTIONS=50 BENCH_PROFILE=1)
 *
 * Processes: accounts + catalog + ugc in one (as `npm start` runs them; demo library, a temp data
 * dir), the Folio gateway with its defaults (response cache and dedup on), a second Folio gateway
 * with response cache and dedup off ("raw"), Hive Gateway (--jit, inbound dedup on, as
 * graphql-gateways-benchmark runs it), autocannon in this process.
 *
 * Two traffic shapes per query:
 * - identical: every request has the same body (what gateway benchmarks usually measure; inbound
 *   dedup and response caches shine);
 * - distinct: a variable cycles through ~95 values that all give the same answer size, so no two
 *   in-flight requests are alike and nothing is cached or shared: the raw per-request cost.
 *
 * Hive and identity: Folio subgraphs accept only requests signed for them (lib/signing.ts: audience,
 * exact request, one-time nonce). A Hive `onFetch` plugin signs each subgraph fetch from a token →
 * caller table the bench builds, which stands in for Folio's cached token resolution: both gateways
 * pay a SHA-256 of the body and an HMAC per subgraph fetch and a map lookup for the caller. The
 * direct rows sign each request in autocannon's setupRequest (a nonce is accepted once).
 * BENCH_PROFILE=1 also writes a CPU profile of each measured window of the subgraphs process and of the Folio gateway measured (node:inspector, <role>-<row n>.cpuprofile) to a temp directory (printed); `npx tsx bench/gateway/profileTop.ts <file>` lists its top self-time items.
 *
 * Each subgraph row is preceded by a bare Apollo subgraph row (bareSubgraph.ts: @apollo/subgraph +
 * @apollo/server, the same `books(first)` shape from memory), and the report gives catalog/bare RPS.
 *
 *   npm run bench:gateway -- --path   (the request path alone: bare vs catalog direct twice, then
 *   the Folio gateway on federated distinct traffic; writes bench/results/gateway-path-<time>.*)
 *
 *   npm run bench:gateway -- --usage   (BENCH_USAGE_ROUNDS=8)
 *
 * measures the cost of field-usage recording (gateway/plugins/schemaUsage.ts) alone: two Folio
 * gateways, identical but for FOLIO_GATEWAY_SCHEMA_USAGE, loaded at the same time on distinct
 * traffic of every query, modes swapped between the two processes half-way; the geometric mean
 * of the paired RPS ratios. Writes bench/results/gateway-usage-<time>.{json,md}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { CredentialCaller } from '../../lib/identity.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const require = createRequire(import.meta.url);
const BASE_PORT = 4331; // accounts, catalog, ugc, search
const PORTS = { accounts: BASE_PORT, catalog: BASE_PORT + 1, ugc: BASE_PORT + 2, search: BASE_PORT + 3, folio: 4340, folioRaw: 4341, hive: 4342, folioNoFast: 4343, folioNoUsage: 4344, bare: 4345 } as const;
/**
 * `-- --path`: the request path only (issue 14): the bare Apollo subgraph, catalog direct and the
 * Folio gateway on federated distinct traffic; no Hive, no raw/nofast gateways. For iterating.
 */
const PATH_ONLY = process.argv.includes('--path');
/**
 * BENCH_BASELINE=<dir>: a checkout of the code before a change (e.g. `git archive <commit> | tar -x
 * -C dir`, node_modules linked). With `--path`, its subgraphs and gateway run beside this checkout's
 * (ports +20) and every measured row is repeated on them, adjacent in time: before/after in one run.
 */
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : undefined;
const BASELINE_PORT_OFFSET = 20;
/** `-- --usage`: rounds of distinct traffic, usage recording on vs off alternating. */
const USAGE_ROUNDS = Number(process.env.BENCH_USAGE_ROUNDS ?? 8);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PROFILE = process.env.BENCH_PROFILE === '1';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const ADMIN_PASSWORD = 'bench-admin-password';

// `$first` ≥ the 6 demo books / shelf entries: every value gives the same answer, each a distinct request.
const FIRSTS = Array.from({ length: 95 }, (_, i) => i + 6);

interface QuerySpec {
  readonly id: string;
  readonly query: string;
  readonly note: string;
  /** The subgraph that answers it alone (for the direct row). */
  readonly direct?: 'catalog';
  readonly authenticated?: boolean;
}

const QUERIES: readonly QuerySpec[] = [
  {
    id: 'single-subgraph',
    query: 'query Books($first: Int) { books(first: $first) { edges { node { id title } } } }',
    note: 'catalog only; Query.books has no cache hint, so never cached',
    direct: 'catalog',
  },
  {
    id: 'federated',
    query:
      'query Rated($first: Int) { books(first: $first) { edges { node { id title authors rating { average count } reviews(first: 3) { edges { node { rating text author { id } } } } } } } }',
    note: 'catalog → ugc (Book entities) → accounts (User entities); no hint on Query.books, so never cached',
  },
  {
    id: 'per-user',
    query: 'query Shelf($first: Int) { me { id username shelf(first: $first) { edges { node { finished book { id title rating { average } } } } } } }',
    note: 'accounts → ugc → catalog → ugc, signed-in user; PRIVATE, never cached',
    authenticated: true,
  },
];

// --- roles (child processes) ------------------------------------------------------------------
/**
 * BENCH_PROFILE=1: each SIGUSR2 starts or stops a V8 CPU profile of this process (node:inspector),
 * written as <dir>/<role>-<n>.cpuprofile; the orchestrator signals around each measured window, so
 * a profile holds only that row's load (no start-up, no seeding).
 */
async function profileOnSignal(role: string): Promise<void> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return;
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  let running = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    running = !running;
    if (running) void session.post('Profiler.start');
    else {
      n += 1;
      // The baseline's processes (BENCH_BASELINE) write beside this checkout's: their own names, not the same counters'.
      const file = path.join(dir, `${role}${process.env.BENCH_CODE_ROOT ? '-baseline' : ''}-${n}.cpuprofile`);
      void session.post('Profiler.stop').then(({ profile }) => writeFileSync(file, JSON.stringify(profile)));
    }
  });
}

function benchConfigEnv(extra: Record<string, string>): Record<string, string> {
  return {
    FOLIO_INTERNAL_SECRET: SECRET,
    FOLIO_OPS_TOKEN: 'bench-ops-token-bench-ops-token-0123',
    FOLIO_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FOLIO_LOG_LEVEL: 'warn',
    FOLIO_SUBGRAPH_BASE_PORT: process.env.BENCH_SUBGRAPH_BASE_PORT ?? String(BASE_PORT),
    FOLIO_PASSWORD_SCRYPT_LOG_N: '12',
    ...extra,
  };
}

/**
 * The code a role runs: this checkout, or BENCH_CODE_ROOT (the baseline checkout of a before/after
 * run, BENCH_BASELINE), whose own modules the role then imports.
 */
const codeOf = <T>(file: string): Promise<T> => import(pathToImport(path.join(process.env.BENCH_CODE_ROOT ?? ROOT, file))) as Promise<T>;

async function runPlatform(dataDir: string): Promise<void> {
  const { loadConfig } = await codeOf<typeof import('../../lib/config.js')>('lib/config.ts');
  const { createLogger } = await codeOf<typeof import('../../lib/logger.js')>('lib/logger.ts');
  const { startPlatform } = await codeOf<typeof import('../../scripts/platform.js')>('scripts/platform.ts');
  const config = loadConfig(benchConfigEnv({ FOLIO_DATA_DIR: dataDir, FOLIO_DEMO_DATA: 'true' }));
  // Search is left out: its indexer would compete for the CPU, and no benchmark query touches it.
  const platform = await startPlatform(config, createLogger('bench-platform', 'warn'), ['accounts', 'catalog', 'ugc']);
  process.on('SIGTERM', () => void platform.stop().finally(() => process.exit(0)));
  await profileOnSignal('subgraphs');
  console.log('READY');
}

async function runFolio(supergraphFile: string, port: string, mode: string): Promise<void> {
  const { loadConfig } = await codeOf<typeof import('../../lib/config.js')>('lib/config.ts');
  const { startGateway } = await codeOf<typeof import('../../gateway/server.js')>('gateway/server.ts');
  const config = loadConfig(
    benchConfigEnv({
      FOLIO_GATEWAY_PORT: port,
      FOLIO_SUPERGRAPH_PATH: supergraphFile,
      // Limits run on every request; one load generator is one address and one user, so budgets are opened up.
      FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '1000000000/1',
      FOLIO_GATEWAY_RATE_LIMIT_USER: '1000000000/1',
      FOLIO_GATEWAY_AUTH_CACHE_SECONDS: '5',
      FOLIO_GATEWAY_SCHEMA_USAGE: mode === 'nousage' ? 'false' : 'true',
      // Likewise admission: the load generator is one client on one address with CONNECTIONS connections.
      FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: '100000',
      FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS: '100000',
      FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '100000',
      // Load shedding on event-loop lag: on the shared bench machine other people's work delays the
      // loop, and shed rows would count 503s as responses. Off for the benchmark (in-flight cap kept).
      FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS: '100000',
    }),
  );
  const raw = mode === 'raw';
  // 'nofast': all plugins on, the single-fetch fast path off (gateway/singleFetch.ts): the before/after of that path.
  const gateway = await startGateway(config, { dedup: !raw, responseCache: !raw, singleFetch: mode !== 'nofast' });
  // A clean exit (drained), as a deployment stops it.
  process.on('SIGTERM', () => void gateway.stop().finally(() => process.exit(0)));
  await profileOnSignal(`gateway-${mode}`);
  console.log('READY');
}

// --- orchestration --------------------------------------------------------------------------------
function start(args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  // As deployed (graphql-js skips its development-mode checks; Folio requires its production
  // settings): every process measured, the bare subgraph and Hive included, runs NODE_ENV=production.
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production', ...env } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

interface Answer {
  readonly data?: Record<string, any> | null;
  readonly errors?: unknown[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return (await response.json()) as Answer;
}

async function must(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Record<string, any>> {
  const answer = await post(url, { query, variables }, headers);
  if (answer.errors?.length) throw new Error(`${url}: ${JSON.stringify(answer.errors).slice(0, 500)}`);
  return answer.data!;
}

async function waitFor(check: () => Promise<boolean>, what: string, seconds = 120): Promise<void> {
  let last: unknown;
  for (let i = 0; i < seconds * 5; i += 1) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error; // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} never became ready`, { cause: last });
}

/** Demo data for the federated and per-user queries: readers with reviews, one reader with a full shelf. */
async function seed(gateway: string): Promise<{ token: string; caller: CredentialCaller }> {
  const books = (await must(gateway, '{ books(first: 100) { edges { node { id } } } }')).books.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
  if (books.length < 6) throw new Error(`expected the 6 demo books, got ${books.length}`);
  const register = async (username: string): Promise<{ token: string; id: string }> => {
    const data = await must(gateway, 'mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }', {
      input: { username, password: `bench-pw-${randomBytes(8).toString('hex')}`, displayName: username },
    });
    return { token: data.register.token, id: data.register.user.id };
  };
  const reviewers = await Promise.all(['bench_r1', 'bench_r2', 'bench_r3'].map(register));
  for (const [i, reviewer] of reviewers.entries()) {
    for (const bookId of books) {
      await must(gateway, 'mutation($bookId: ID!, $input: ReviewInput!) { writeReview(bookId: $bookId, input: $input) { id } }', { bookId, input: { rating: 3 + (i % 3), text: `Review ${i} of ${bookId}: worth reading.` } }, { authorization: `Bearer ${reviewer.token}` });
    }
  }
  const reader = await register('bench_reader');
  for (const bookId of books) await must(gateway, 'mutation($bookId: ID!) { addToShelf(bookId: $bookId) { id } }', { bookId }, { authorization: `Bearer ${reader.token}` });
  return { token: reader.token, caller: { userId: reader.id, roles: ['READER'], sessionId: null, partnerId: null, scopes: [] } };
}

/** The supergraph with this run's subgraph URLs (Hive takes them from the file; so does Folio's "any supergraph" mode). */
function writeSupergraph(file: string, root = ROOT, portOffset = 0): void {
  const sdl = readFileSync(path.join(root, 'schema/supergraph.graphql'), 'utf8').replace(
    /@join__graph\(\s*name:\s*"([^"]+)"\s*,?\s*url:\s*"[^"]*"\s*\)/g,
    (_m, name: string) => `@join__graph(name: "${name}", url: "http://127.0.0.1:${PORTS[name as 'catalog'] + portOffset}/graphql")`,
  );
  writeFileSync(file, sdl);
}

function hiveConfig(): string {
  const identity = pathToImport(path.join(ROOT, 'lib/identity.ts'));
  const signing = pathToImport(path.join(ROOT, 'lib/signing.ts'));
  const audiences = Object.fromEntries((['accounts', 'catalog', 'ugc', 'search'] as const).map((name) => [`http://127.0.0.1:${PORTS[name]}/graphql`, name]));
  return `// Generated by bench/gateway/gateway.bench.ts: Hive Gateway as graphql-gateways-benchmark runs it, plus Folio's request signing.
import { ANONYMOUS } from ${JSON.stringify(identity)};
import { signRequest } from ${JSON.stringify(signing)};
const secret = process.env.BENCH_SECRET;
const callers = new Map(Object.entries(JSON.parse(process.env.BENCH_CALLERS ?? '{}')));
const audiences = ${JSON.stringify(audiences)};
// Each subgraph fetch is signed for its subgraph and body, as the Folio gateway signs them.
const signFetch = {
  onFetch({ url, options, setOptions, context }) {
    const audience = audiences[url];
    if (!audience) return;
    const authorization = context?.request?.headers?.get('authorization');
    const caller = { ...((authorization && callers.get(authorization.slice(7))) || ANONYMOUS), clientAddress: '127.0.0.1' };
    const target = new URL(url);
    const body = typeof options.body === 'string' ? options.body : '';
    const signed = signRequest(secret, { audience, method: options.method ?? 'POST', pathAndQuery: target.pathname + target.search, body }, caller);
    setOptions({ ...options, headers: { ...options.headers, ...signed } });
  },
};
export const gatewayConfig = {
  inboundInflightRequestDeduplication: true,
  plugins: () => [signFetch],
};
`;
}

const pathToImport = (file: string): string => new URL(`file://${file}`).href;

interface Target {
  readonly id: string;
  readonly url: string;
  /** Headers per request body (direct calls carry a signature for that body, as the gateway would sign it). */
  readonly headers: (body: string) => Record<string, string>;
  /** The gateway's process (undefined for direct calls). */
  readonly pid: number | undefined;
  /** A Folio gateway, which profiles itself on SIGUSR2 (profileOnSignal); other processes would die of it. */
  readonly folio?: boolean;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them, in clock ticks (100/s).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

interface Row {
  readonly query: string;
  readonly traffic: 'identical' | 'distinct';
  readonly target: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  /**
   * CPU milliseconds per response of the gateway process and of the subgraphs process, over the
   * measured window. Much less sensitive than RPS to other work on a shared machine.
   */
  readonly gatewayCpuMs: number | null;
  readonly subgraphCpuMs: number;
}

async function measure(spec: QuerySpec, traffic: Row['traffic'], target: Target, token: string, subgraphPid: number | undefined, connections = CONNECTIONS): Promise<Row> {
  const headers = { 'content-type': 'application/json', ...(spec.authenticated ? { authorization: `Bearer ${token}` } : {}) };
  const bodies = (traffic === 'identical' ? [20] : FIRSTS).map((first) => JSON.stringify({ query: spec.query, variables: { first } }));
  const check = await post(target.url, JSON.parse(bodies[0]!), { ...headers, ...target.headers(JSON.stringify(JSON.parse(bodies[0]!))) });
  if (check.errors?.length) throw new Error(`${target.id} answered ${spec.id} with errors: ${JSON.stringify(check.errors).slice(0, 300)}`);
  let next = 0;
  const run = (duration: number) =>
    autocannon({
      url: target.url,
      method: 'POST',
      headers,
      connections,
      duration,
      requests: [
        {
          setupRequest: (request) => {
            const body = bodies[next++ % bodies.length]!;
            return { ...request, body, headers: { ...request.headers, ...target.headers(body) } };
          },
        },
      ],
    });
  if (WARMUP > 0) await run(WARMUP);
  const before = { gateway: cpuSeconds(target.pid), subgraph: cpuSeconds(subgraphPid) };
  // Profiles (BENCH_PROFILE=1) cover the measured window only: one file per process per row, numbered in row order.
  const profiled = PROFILE ? [target.folio ? target.pid : undefined, subgraphPid].filter((pid): pid is number => pid !== undefined) : [];
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  const result = await run(DURATION);
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  const responses = Math.max(1, result.requests.total);
  const perResponse = (after: number, start: number) => +(((after - start) * 1000) / responses).toFixed(3);
  const row: Row = {
    query: spec.id,
    traffic,
    target: target.id,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    gatewayCpuMs: target.pid === undefined ? null : perResponse(cpuSeconds(target.pid), before.gateway),
    subgraphCpuMs: perResponse(cpuSeconds(subgraphPid), before.subgraph),
  };
  console.log(JSON.stringify(PROFILE ? { ...row, profiled: profiled.length } : row));
  return row;
}

function versionOf(name: string): string {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    // Packages whose exports hide package.json: the platform's own, or this benchmark's (bench/gateway).
    const file = [ROOT, HERE].map((dir) => path.join(dir, 'node_modules', name, 'package.json')).find((f) => existsSync(f));
    return file ? JSON.parse(readFileSync(file, 'utf8')).version : 'unknown';
  }
}

/** Sorted-key JSON, so two gateways' answers compare by value. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

async function orchestrate(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'folio-gw-bench-'));
  const supergraph = path.join(tmp, 'supergraph.graphql');
  const profileDir = path.join(os.tmpdir(), `folio-gw-profiles-${Date.now()}`);
  if (PROFILE) {
    mkdirSync(profileDir, { recursive: true });
    process.env.BENCH_PROFILE_DIR = profileDir; // inherited by the children (profileOnSignal)
  }
  const children: ChildProcess[] = [];
  try {
    writeSupergraph(supergraph);
    const tsxImport = ['--import', import.meta.resolve('tsx')]; // absolute: Hive runs in the temp dir
    const platform = await start([...tsxImport, fileURLToPath(import.meta.url), 'platform', path.join(tmp, 'data')]);
    children.push(platform);
    const bare = await start([...tsxImport, path.join(HERE, 'bareSubgraph.ts'), String(PORTS.bare)]);
    children.push(bare);
    const catalogUrl = `http://127.0.0.1:${PORTS.catalog}/graphql`;
    const { ANONYMOUS } = await import('../../lib/identity.js');
    const { signRequest } = await import('../../lib/signing.js');
    const anonymousHeaders = (body: string) =>
      signRequest(SECRET, { audience: 'catalog', method: 'POST', pathAndQuery: '/graphql', body }, { ...ANONYMOUS, clientAddress: '127.0.0.1' });
    const LIBRARY = { query: '{ books(first: 10) { edges { node { id } } } }', variables: {} };
    await waitFor(async () => (await must(catalogUrl, LIBRARY.query, LIBRARY.variables, anonymousHeaders(JSON.stringify(LIBRARY)))).books.edges.length >= 6, 'demo library');

    const folioUrl = `http://127.0.0.1:${PORTS.folio}/graphql`;
    const folio = await start([...tsxImport, fileURLToPath(import.meta.url), 'folio', supergraph, String(PORTS.folio), 'default']);
    children.push(folio);
    const { token, caller } = await seed(folioUrl);
    const none = () => ({});
    let baseline: { platform: ChildProcess; folio: ChildProcess } | undefined;
    if (BASELINE && PATH_ONLY) {
      const baseSupergraph = path.join(tmp, 'supergraph-baseline.graphql');
      writeSupergraph(baseSupergraph, BASELINE, BASELINE_PORT_OFFSET);
      const env = { BENCH_CODE_ROOT: BASELINE, BENCH_SUBGRAPH_BASE_PORT: String(BASE_PORT + BASELINE_PORT_OFFSET) };
      const basePlatform = await start([...tsxImport, fileURLToPath(import.meta.url), 'platform', path.join(tmp, 'data-baseline')], env);
      children.push(basePlatform);
      const baseFolio = await start([...tsxImport, fileURLToPath(import.meta.url), 'folio', baseSupergraph, String(PORTS.folio + BASELINE_PORT_OFFSET), 'default'], env);
      children.push(baseFolio);
      const baseUrl = `http://127.0.0.1:${PORTS.folio + BASELINE_PORT_OFFSET}/graphql`;
      await waitFor(async () => ((await post(baseUrl, LIBRARY)).data?.books?.edges?.length ?? 0) >= 6, 'baseline demo library');
      await seed(baseUrl);
      baseline = { platform: basePlatform, folio: baseFolio };
    }
    const targets: Record<string, Target> = {
      folio: { id: 'folio-gateway', url: folioUrl, headers: none, pid: folio.pid, folio: true },
      // The bare server's own CPU goes in the "gw CPU" column (its process is the whole target).
      bare: { id: 'bare-apollo-subgraph', url: `http://127.0.0.1:${PORTS.bare}/graphql`, headers: none, pid: bare.pid },
      direct: {
        id: 'subgraph-direct',
        url: catalogUrl,
        pid: undefined,
        // The catalog subgraph as Folio's gateway calls it: each request signed for its body, once.
        headers: anonymousHeaders,
      },
    };
    const hiveUrl = `http://127.0.0.1:${PORTS.hive}/graphql`;
    if (!PATH_ONLY) {
      const folioRaw = await start([...tsxImport, fileURLToPath(import.meta.url), 'folio', supergraph, String(PORTS.folioRaw), 'raw']);
      const folioNoFast = await start([...tsxImport, fileURLToPath(import.meta.url), 'folio', supergraph, String(PORTS.folioNoFast), 'nofast']);
      children.push(folioRaw, folioNoFast);
      writeFileSync(path.join(tmp, 'gateway.config.mjs'), hiveConfig());
      const hiveBin = path.join(HERE, 'node_modules/@graphql-hive/gateway/dist/bin.js'); // bench/gateway's own package
      const hive = spawn(
        process.execPath,
        [...tsxImport, hiveBin, 'supergraph', supergraph, '--jit', '--host', '127.0.0.1', '--port', String(PORTS.hive), '-c', path.join(tmp, 'gateway.config.mjs')],
        { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production', BENCH_SECRET: SECRET, BENCH_CALLERS: JSON.stringify({ [token]: caller }) } },
      );
      children.push(hive);
      await waitFor(async () => (await post(hiveUrl, { query: '{ __typename }' })).data?.__typename === 'Query', 'hive gateway', 60);
      targets.folioRaw = { id: 'folio-gateway-raw', url: `http://127.0.0.1:${PORTS.folioRaw}/graphql`, headers: none, pid: folioRaw.pid, folio: true };
      targets.folioNoFast = { id: 'folio-gateway-nofast', url: `http://127.0.0.1:${PORTS.folioNoFast}/graphql`, headers: none, pid: folioNoFast.pid, folio: true };
      targets.hive = { id: 'hive-gateway', url: hiveUrl, headers: none, pid: hive.pid };
    }

    // Both gateways must give the same answers before their speed means anything.
    const agreement: Record<string, boolean> = {};
    for (const spec of PATH_ONLY ? [] : QUERIES) {
      const headers: Record<string, string> = spec.authenticated ? { authorization: `Bearer ${token}` } : {};
      const [a, b] = await Promise.all([post(folioUrl, { query: spec.query, variables: { first: 20 } }, headers), post(hiveUrl, { query: spec.query, variables: { first: 20 } }, headers)]);
      agreement[spec.id] = canonical(a) === canonical(b) && !a.errors;
      if (!agreement[spec.id]) console.warn(`answers differ for ${spec.id}:\nfolio ${JSON.stringify(a).slice(0, 400)}\nhive  ${JSON.stringify(b).slice(0, 400)}`);
    }

    const rows: Row[] = [];
    const run = async (spec: QuerySpec, traffic: Row['traffic'], target: Target | undefined, subgraphPid = platform.pid) => {
      if (target) rows.push(await measure(spec, traffic, target, token, subgraphPid));
    };
    if (PATH_ONLY) {
      const [single, federated] = QUERIES;
      const catalogBase = `http://127.0.0.1:${PORTS.catalog + BASELINE_PORT_OFFSET}/graphql`;
      const baseDirect: Target = { id: 'subgraph-direct-baseline', url: catalogBase, pid: undefined, headers: anonymousHeaders };
      const baseFolio: Target | undefined = baseline && { id: 'folio-gateway-baseline', url: `http://127.0.0.1:${PORTS.folio + BASELINE_PORT_OFFSET}/graphql`, headers: none, pid: baseline.folio.pid };
      // Alternating bare and catalog (and the baseline's catalog), twice: adjacent in time, so sharing the machine's load.
      for (let round = 0; round < 2; round += 1) {
        await run(single!, 'distinct', targets.bare);
        await run(single!, 'distinct', targets.direct);
        if (baseline) await run(single!, 'distinct', baseDirect, baseline.platform.pid);
      }
      for (let round = 0; round < (baseline ? 2 : 1); round += 1) {
        await run(federated!, 'distinct', targets.folio);
        if (baseline) await run(federated!, 'distinct', baseFolio, baseline.platform.pid);
      }
    } else {
      for (const spec of QUERIES) {
        for (const traffic of ['identical', 'distinct'] as const) {
          if (spec.direct) {
            await run(spec, traffic, targets.bare);
            await run(spec, traffic, targets.direct);
          }
          await run(spec, traffic, targets.hive);
          await run(spec, traffic, targets.folio);
          if (traffic === 'distinct') await run(spec, traffic, targets.folioRaw);
          if (traffic === 'distinct' && spec.direct) await run(spec, traffic, targets.folioNoFast);
        }
      }
    }
    report(rows, agreement);
  } finally {
    for (const child of children.reverse()) await stop(child);
    rmSync(tmp, { recursive: true, force: true });
    if (PROFILE) console.log(`CPU profiles: ${profileDir}`);
  }
}

function report(rows: Row[], agreement: Record<string, boolean>): void {
  const at = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, loadavg: os.loadavg() };
  const versions = Object.fromEntries(['@apollo/gateway', '@apollo/server', '@graphql-hive/gateway', 'graphql', 'undici', 'autocannon'].map((n) => [n, versionOf(n)]));
  const settings = { durationSec: DURATION, warmupSec: WARMUP, connections: CONNECTIONS, node: process.version, distinctValues: FIRSTS.length };
  const get = (q: string, t: Row['traffic'], target: string) => rows.find((r) => r.query === q && r.traffic === t && r.target === target);
  // Folio's catalog subgraph against the bare Apollo subgraph, each pair measured back to back.
  const subgraphVsBare = QUERIES.flatMap((q) =>
    (['identical', 'distinct'] as const).flatMap((traffic) => {
      const bares = rows.filter((r) => r.query === q.id && r.traffic === traffic && r.target === 'bare-apollo-subgraph');
      const directs = rows.filter((r) => r.query === q.id && r.traffic === traffic && r.target === 'subgraph-direct');
      return bares.map((bare, i) => {
        const direct = directs[i]!;
        return {
          query: q.id,
          traffic,
          bareRps: bare.rps,
          catalogRps: direct.rps,
          catalogVsBareRps: +(direct.rps / Math.max(1, bare.rps)).toFixed(2),
          bareCpuMs: bare.gatewayCpuMs,
          catalogCpuMs: direct.subgraphCpuMs,
        };
      });
    }),
  );
  // This checkout against the baseline (BENCH_BASELINE), each pair measured back to back.
  const beforeAfter = rows.flatMap((after, i) => {
    const before = rows[i + 1];
    if (!before || before.target !== `${after.target}-baseline` || before.query !== after.query) return [];
    const cpu = (r: Row) => r.gatewayCpuMs ?? r.subgraphCpuMs;
    return [{
      query: after.query,
      target: after.target,
      rpsBefore: before.rps,
      rpsAfter: after.rps,
      rpsRatio: +(after.rps / Math.max(1, before.rps)).toFixed(2),
      gatewayCpuMsBefore: before.gatewayCpuMs,
      gatewayCpuMsAfter: after.gatewayCpuMs,
      subgraphCpuMsBefore: before.subgraphCpuMs,
      subgraphCpuMsAfter: after.subgraphCpuMs,
      cpuRatio: +(cpu(after) / cpu(before)).toFixed(2),
    }];
  });
  const ratios = QUERIES.flatMap((q) =>
    (['identical', 'distinct'] as const).map((traffic) => {
      const hive = get(q.id, traffic, 'hive-gateway');
      if (!hive) return { query: q.id, traffic };
      const direct = get(q.id, traffic, 'subgraph-direct');
      const against = (target: string) => {
        const folio = get(q.id, traffic, target);
        if (!folio) return undefined;
        return {
          vsHiveRps: +(folio.rps / Math.max(1, hive.rps)).toFixed(2),
          vsHiveP99: +(folio.p99 / Math.max(1, hive.p99)).toFixed(2),
          ...(direct ? { vsDirectRps: +(folio.rps / Math.max(1, direct.rps)).toFixed(2) } : {}),
        };
      };
      return { query: q.id, traffic, folio: against('folio-gateway'), folioRaw: against('folio-gateway-raw'), folioNoFast: against('folio-gateway-nofast') };
    }),
  );
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const base = path.join(ROOT, 'bench/results', `gateway-${PATH_ONLY ? 'path-' : ''}${at}`);
  writeFileSync(`${base}.json`, JSON.stringify({ at, machine, versions, settings, mode: PATH_ONLY ? 'path' : 'full', baseline: BASELINE ?? null, queries: QUERIES, agreement, rows, subgraphVsBare, beforeAfter, ratios }, null, 2));
  const cell = (r: { vsHiveRps: number; vsHiveP99: number; vsDirectRps?: number } | undefined) =>
    r ? `${r.vsHiveRps} | ${r.vsHiveP99} | ${r.vsDirectRps ?? '-'}` : '- | - | -';
  const lines = [
    `# Gateway benchmark ${at} (Folio's real subgraphs)`,
    '',
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGb} GB, ${machine.os}, load average at end ${machine.loadavg.map((l) => l.toFixed(1)).join(' ')} (shared machine: other work ran too).`,
    `Node ${process.version}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `autocannon: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured per row; subgraphs (accounts, catalog, ugc: one process), each gateway and autocannon are separate processes sharing the machine.`,
    `Folio and Hive answers identical: ${Object.entries(agreement).map(([q, same]) => `${q} ${same ? 'yes' : 'NO'}`).join(', ')}.`,
    '',
    '`identical`: the same body every request. `distinct`: `$first` cycles through 95 values with the same answer size, so nothing is shared or cached.',
    '`folio-gateway`: all plugins on (auth, rate limits, limits, response cache, dedup), single-fetch fast path on. `folio-gateway-raw`: the same without response cache and dedup. `folio-gateway-nofast`: `folio-gateway` with the fast path off (every plan through executeQueryPlan).',
    '',
    '`bare-apollo-subgraph`: a bare @apollo/subgraph + @apollo/server (standalone) serving the same `books(first)` shape from memory (bench/gateway/bareSubgraph.ts); `subgraph-direct`: Folio\'s catalog subgraph called directly, each request signed as the gateway signs it.',
    '',
    '`gw CPU ms/resp` / `subg CPU ms/resp`: CPU time of the gateway / subgraphs process per response over the measured window (less sensitive to other load than RPS); for `bare-apollo-subgraph` the first column is the bare server\'s own CPU.',
    '',
    '| query | traffic | target | RPS | p50 ms | p99 ms | errors | non-2xx | gw CPU ms/resp | subg CPU ms/resp |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.query} | ${r.traffic} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.gatewayCpuMs ?? '-'} | ${r.subgraphCpuMs} |`),
    '',
    '| query | traffic | bare RPS | catalog direct RPS | catalog/bare RPS | bare CPU ms/resp | catalog CPU ms/resp |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...subgraphVsBare.map((r) => `| ${r.query} | ${r.traffic} | ${r.bareRps} | ${r.catalogRps} | ${r.catalogVsBareRps} | ${r.bareCpuMs ?? '-'} | ${r.catalogCpuMs} |`),
    '',
    ...(beforeAfter.length > 0
      ? [
          `Before/after (\`-baseline\` rows: ${BASELINE}, the same rows adjacent in time; CPU ratio: the gateway's CPU per response for gateway rows, the subgraphs process's for direct rows):`,
          '',
          '| query | target | RPS before | RPS after | after/before RPS | gw CPU ms before | after | subg CPU ms before | after | after/before CPU |',
          '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...beforeAfter.map((r) => `| ${r.query} | ${r.target} | ${r.rpsBefore} | ${r.rpsAfter} | ${r.rpsRatio} | ${r.gatewayCpuMsBefore ?? '-'} | ${r.gatewayCpuMsAfter ?? '-'} | ${r.subgraphCpuMsBefore} | ${r.subgraphCpuMsAfter} | ${r.cpuRatio} |`),
          '',
        ]
      : []),
    '| query | traffic | Folio/Hive RPS | Folio/Hive p99 | Folio/direct RPS | raw/Hive RPS | raw/Hive p99 | raw/direct RPS | nofast/Hive RPS | nofast/Hive p99 | nofast/direct RPS |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ratios.map((r) => `| ${r.query} | ${r.traffic} | ${cell('folio' in r ? r.folio : undefined)} | ${cell('folioRaw' in r ? r.folioRaw : undefined)} | ${cell('folioNoFast' in r ? r.folioNoFast : undefined)} |`),
    '',
    ...QUERIES.map((q) => `- \`${q.id}\`: \`${q.query}\` (${q.note})`),
    '',
  ];
  writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(lines.join('\n'));
}

// --- usage recording on vs off ---------------------------------------------------------------------
/**
 * Paired and concurrent, because the cost to find (well under 1%) is far below how much one
 * measurement differs from the next on a shared machine (±15% between rows run a minute apart):
 * each round loads both gateways at the same time (half the connections each), so they share the
 * machine's state and the subgraphs, and their RPS ratio is the recording's cost. Two processes
 * are never identical (start order, placement), so half the rounds run with the modes swapped
 * between the two process slots (both restarted) and the geometric mean of the ratios cancels that.
 */
async function orchestrateUsage(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'folio-gw-usage-bench-'));
  const supergraph = path.join(tmp, 'supergraph.graphql');
  const tsxImport = ['--import', import.meta.resolve('tsx')];
  const slots = [PORTS.folio, PORTS.folioNoUsage] as const;
  let gateways: ChildProcess[] = [];
  let platform: ChildProcess | undefined;
  const startGateways = async (modes: readonly ['default' | 'nousage', 'default' | 'nousage']) => {
    for (const child of gateways) await stop(child);
    gateways = [];
    for (const [i, mode] of modes.entries()) gateways.push(await start([...tsxImport, fileURLToPath(import.meta.url), 'folio', supergraph, String(slots[i]), mode]));
    const target = (i: number): Target => ({ id: modes[i] === 'default' ? 'usage-on' : 'usage-off', url: `http://127.0.0.1:${slots[i]}/graphql`, headers: () => ({}), pid: gateways[i]!.pid });
    return { on: target(modes.indexOf('default')), off: target(modes.indexOf('nousage')), swapped: modes[0] === 'nousage' };
  };
  try {
    writeSupergraph(supergraph);
    platform = await start([...tsxImport, fileURLToPath(import.meta.url), 'platform', path.join(tmp, 'data')]);
    let targets = await startGateways(['default', 'nousage']);
    await waitFor(async () => ((await post(targets.on.url, { query: '{ books(first: 10) { edges { node { id } } } }' })).data?.books?.edges?.length ?? 0) >= 6, 'demo library');
    const { token } = await seed(targets.on.url);
    const micro = await recordingMicro(supergraph);
    console.log(JSON.stringify({ micro }));
    const rows: UsageRow[] = [];
    for (let round = 0; round < USAGE_ROUNDS; round += 1) {
      if (round === Math.ceil(USAGE_ROUNDS / 2)) targets = await startGateways(['nousage', 'default']);
      for (const spec of QUERIES) {
        const half = Math.max(1, Math.floor(CONNECTIONS / 2));
        // The platform's CPU is shared by both: its per-response figure would mean nothing here.
        const [on, off] = await Promise.all([measure(spec, 'distinct', targets.on, token, undefined, half), measure(spec, 'distinct', targets.off, token, undefined, half)]);
        rows.push({ ...on, round, swapped: targets.swapped }, { ...off, round, swapped: targets.swapped });
      }
    }
    reportUsage(rows, micro);
  } finally {
    for (const child of [...gateways, ...(platform ? [platform] : [])]) await stop(child);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The recording's own cost per request, in this process (less exposed to the machine's load than
 * RPS): an executed operation (WeakMap hit + count) and a response-cache hit (count by query text),
 * each with and without client headers, on the benchmark's queries. Nanoseconds per request.
 */
async function recordingMicro(supergraphFile: string): Promise<Record<string, number>> {
  const { UsageRecorder, usageClientOf } = await import('../../gateway/plugins/schemaUsage.js');
  // The platform's graphql (CommonJS, the copy the gateway walks schemas with), not bench/gateway's own.
  const { buildSchema, parse } = createRequire(path.join(ROOT, 'package.json'))('graphql') as typeof import('graphql');
  const recorder = new UsageRecorder();
  type Schema = Parameters<typeof recorder.record>[0];
  type Document = Parameters<typeof recorder.aggregator.describe>[1];
  const schema = buildSchema(readFileSync(supergraphFile, 'utf8'), { assumeValidSDL: true }) as unknown as Schema;
  const app = { 'apollographql-client-name': 'reader-web', 'apollographql-client-version': '2.1' };
  const N = 300_000;
  const out: Record<string, number> = {};
  for (const spec of QUERIES) {
    const document = parse(spec.query) as unknown as Document;
    // Fresh strings, as JSON.parse gives each request (their hash is not cached yet).
    const texts = Array.from({ length: 1000 }, () => JSON.parse(JSON.stringify(spec.query)) as string);
    for (const [label, headers] of [['anonymous', {}], ['client-headers', app]] as const) {
      recorder.record(schema, document, { client: usageClientOf(headers, null), documentKey: spec.query });
      let t = process.hrtime.bigint();
      for (let i = 0; i < N; i += 1) recorder.record(schema, document, { client: usageClientOf(headers, null), documentKey: texts[i % 1000]! });
      out[`${spec.id}/executed/${label}`] = Math.round(Number(process.hrtime.bigint() - t) / N);
      t = process.hrtime.bigint();
      for (let i = 0; i < N; i += 1) recorder.countKnown({ client: usageClientOf(headers, null), documentKey: texts[i % 1000]! });
      out[`${spec.id}/cache-hit/${label}`] = Math.round(Number(process.hrtime.bigint() - t) / N);
      recorder.aggregator.drain();
    }
  }
  return out;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface UsageRow extends Row {
  readonly round: number;
  /** True in the rounds where the recording gateway runs in the second process slot. */
  readonly swapped: boolean;
}

/** Geometric mean of ratios with a 95% interval (t over the logs: rounds are few). */
function ratioSummary(ratios: readonly number[]): { mean: number; low: number; high: number } {
  const logs = ratios.map(Math.log);
  const n = logs.length;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  // Two-sided 95% t quantiles for n-1 degrees of freedom (1..9), then the normal one.
  const t = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26][n - 2] ?? 1.96;
  const half = n > 1 ? (t * sd) / Math.sqrt(n) : 0;
  const r = (x: number) => +Math.exp(x).toFixed(4);
  return { mean: r(mean), low: r(mean - half), high: r(mean + half) };
}

function reportUsage(rows: readonly UsageRow[], micro: Record<string, number>): void {
  const at = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg() };
  const settings = { durationSec: DURATION, warmupSec: WARMUP, connectionsEach: Math.max(1, Math.floor(CONNECTIONS / 2)), rounds: USAGE_ROUNDS, node: process.version };
  const summary = QUERIES.map((q) => {
    const pairs = [...new Set(rows.map((r) => r.round))].map((round) => {
      const on = rows.find((r) => r.query === q.id && r.round === round && r.target === 'usage-on')!;
      const off = rows.find((r) => r.query === q.id && r.round === round && r.target === 'usage-off')!;
      return { round, swapped: on.swapped, rps: on.rps / Math.max(1, off.rps), cpu: (on.gatewayCpuMs ?? Number.NaN) / (off.gatewayCpuMs ?? Number.NaN), onRps: on.rps, offRps: off.rps };
    });
    const rps = ratioSummary(pairs.map((p) => p.rps));
    const cpu = ratioSummary(pairs.map((p) => p.cpu));
    const inSlot = (swapped: boolean) => ratioSummary(pairs.filter((p) => p.swapped === swapped).map((p) => p.rps)).mean;
    return {
      query: q.id,
      rpsRatio: rps,
      rpsCostPercent: +((1 - rps.mean) * 100).toFixed(1),
      rpsRatioFirstSlot: inSlot(false),
      rpsRatioSecondSlot: inSlot(true),
      gwCpuRatio: cpu,
      cpuCostPercent: +((cpu.mean - 1) * 100).toFixed(1),
      medianRpsOn: median(pairs.map((p) => p.onRps)),
      medianRpsOff: median(pairs.map((p) => p.offRps)),
      perRound: pairs.map((p) => +p.rps.toFixed(3)),
    };
  });
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const base = path.join(ROOT, 'bench/results', `gateway-usage-${at}`);
  writeFileSync(`${base}.json`, JSON.stringify({ at, machine, settings, micro, rows, summary }, null, 2));
  // The recording's own CPU per request against the gateway's whole CPU per response without it.
  const share = (query: string, kind: string): string => {
    const off = median(rows.filter((r) => r.query === query && r.target === 'usage-off').map((r) => r.gatewayCpuMs ?? Number.NaN)) * 1e6;
    return `${micro[`${query}/${kind}/client-headers`]} ns (${((micro[`${query}/${kind}/client-headers`]! / off) * 100).toFixed(2)}%)`;
  };
  const pct = (x: number) => `${((1 - x) * 100).toFixed(1)}%`;
  const lines = [
    `# Gateway benchmark: field-usage recording on vs off, ${at}`,
    '',
    `Machine: ${machine.cpus} × ${machine.cpuModel}, load average at end ${machine.loadavg.map((l) => l.toFixed(1)).join(' ')} (shared machine: other work ran too).`,
    `Two Folio gateways with all plugins on, identical but for \`FOLIO_GATEWAY_SCHEMA_USAGE\` (the recording one flushes to accounts every 60 s, its default, in the measured windows), loaded **at the same time**: ${USAGE_ROUNDS} rounds × each query, autocannon with ${settings.connectionsEach} connections on each gateway, ${WARMUP} s warm-up + ${DURATION} s measured; distinct traffic (\`$first\` cycles through ${FIRSTS.length} values: nothing cached or shared). From round ${Math.ceil(USAGE_ROUNDS / 2)} on, both gateways are restarted with the modes swapped between the two process slots; the ratio is the geometric mean over all rounds, which cancels what differs between the slots.`,
    '',
    '| query | RPS on/off (95% interval) | RPS cost | on/off, first slot | second slot | gw CPU per response on/off (95% interval) | median RPS on | off | on/off per round |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...summary.map((s) => `| ${s.query} | ${s.rpsRatio.mean} (${s.rpsRatio.low}–${s.rpsRatio.high}) | ${pct(s.rpsRatio.mean)} | ${s.rpsRatioFirstSlot} | ${s.rpsRatioSecondSlot} | ${s.gwCpuRatio.mean} (${s.gwCpuRatio.low}–${s.gwCpuRatio.high}) | ${s.medianRpsOn} | ${s.medianRpsOff} | ${s.perRound.join(', ')} |`),
    '',
    'Recording alone, in-process (ns per request, with client headers; share of the recording-off gateway\'s median CPU per response):',
    '',
    '| query | executed operation | response-cache hit |',
    '| --- | ---: | ---: |',
    ...QUERIES.map((q) => `| ${q.id} | ${share(q.id, 'executed')} | ${share(q.id, 'cache-hit')} |`),
    '',
    `All micro timings (ns/request): ${Object.entries(micro).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '| round | slots swapped | query | target | RPS | p50 ms | p99 ms | errors | non-2xx | gw CPU ms/resp |',
    '| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.round} | ${r.swapped ? 'yes' : 'no'} | ${r.query} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.gatewayCpuMs ?? '-'} |`),
    '',
  ];
  writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(lines.join('\n'));
}

const [role, ...args] = process.argv.slice(2);
if (role === 'platform') await runPlatform(args[0]!);
else if (role === 'folio') await runFolio(args[0]!, args[1]!, args[2]!);
else if (role === '--usage') await orchestrateUsage();
else await orchestrate();
