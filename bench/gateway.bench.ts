/**
 * Gateway benchmark: the same queries through the Folio gateway (all plugins on), through a peer
 * gateway (@graphql-hive/gateway, inbound dedup on, as the community benchmark runs it) and straight
 * at the subgraph, with autocannon. Writes bench/results/gateway-<time>.{json,md}.
 *
 *   npm run bench:gateway            (BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_CONNECTIONS=50)
 *
 * Subgraphs: the gateway test kit's catalog/ugc/accounts (Folio's own subgraphs replace them once
 * they are complete). Each server runs in its own process (roles below), autocannon in this one.
 * The subgraphs accept unsigned requests as anonymous so the peer gateway can call them; Folio
 * still signs (and so pays for) its identity headers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ANONYMOUS, signIdentity } from '../lib/identity.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const require = createRequire(import.meta.url);
const PORTS = { catalog: 4311, ugc: 4312, accounts: 4313, folio: 4320, hive: 4321 } as const;
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const QUERIES = [
  { id: 'single-subgraph', query: '{ latest { id title } }', direct: 'catalog', note: 'one subgraph, not cacheable' },
  { id: 'federated', query: '{ latest { id title rating related { id title rating } } }', direct: null, note: 'catalog + ugc entities, not cacheable' },
  { id: 'federated-cacheable', query: '{ books { id title rating related { id title } } }', direct: null, note: '@cacheControl(maxAge: 60), public' },
] as const;

// --- roles (child processes) ------------------------------------------------------------------
async function runSubgraphs(supergraphFile: string): Promise<void> {
  const kit = await import('../gateway/testkit.js');
  const defs = [kit.catalogSubgraph(), kit.ugcSubgraph(), kit.accountsSubgraph()];
  const served = await Promise.all(defs.map((d) => kit.serveSubgraph(d, { port: PORTS[d.name as 'catalog'], allowUnsigned: true })));
  writeFileSync(supergraphFile, kit.composeSupergraph(defs.map((d, i) => ({ ...d, url: served[i]!.url }))));
  console.log('READY');
}

async function runFolio(supergraphFile: string): Promise<void> {
  const { loadConfig } = await import('../lib/config.js');
  const { startGateway } = await import('../gateway/server.js');
  const kit = await import('../gateway/testkit.js');
  const config = loadConfig({
    NODE_ENV: 'production',
    FOLIO_INTERNAL_SECRET: kit.TEST_SECRET,
    FOLIO_ADMIN_PASSWORD: 'bench-admin-password',
    FOLIO_LOG_LEVEL: 'warn',
    FOLIO_GATEWAY_PORT: String(PORTS.folio),
    FOLIO_SUPERGRAPH_PATH: supergraphFile,
    // The limiter runs on every request; one load generator is one client address, so its budget is opened up.
    FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '1000000000/1',
  });
  await startGateway(config);
  console.log('READY');
}

// --- orchestration --------------------------------------------------------------------------------
function start(args: string[], cwd = ROOT): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

async function waitFor(url: string, body: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never answered`);
}

interface Row {
  readonly query: string;
  readonly target: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

async function measure(query: (typeof QUERIES)[number], target: string, url: string, headers: Record<string, string>): Promise<Row> {
  const body = JSON.stringify({ query: query.query });
  const expected = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).text();
  if (expected.includes('"errors"')) throw new Error(`${target} answered ${query.id} with errors: ${expected.slice(0, 300)}`);
  const run = (duration: number) =>
    autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, connections: CONNECTIONS, duration });
  if (WARMUP > 0) await run(WARMUP);
  const result = await run(DURATION);
  const row = { query: query.id, target, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
  console.log(JSON.stringify(row));
  return row;
}

function versionOf(name: string): string {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    const dir = path.join(ROOT, 'node_modules', name, 'package.json');
    return JSON.parse(readFileSync(dir, 'utf8')).version;
  }
}

async function orchestrate(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'folio-gw-bench-'));
  const supergraph = path.join(tmp, 'supergraph.graphql');
  const self = [require.resolve('tsx/cli'), fileURLToPath(import.meta.url)];
  const children: ChildProcess[] = [];
  try {
    children.push(await start([...self, 'subgraphs', supergraph]));
    children.push(await start([...self, 'folio', supergraph]));
    // Hive Gateway as graphql-gateways-benchmark runs it: --jit, inbound in-flight dedup on.
    writeFileSync(path.join(tmp, 'gateway.config.mjs'), 'export const gatewayConfig = { inboundInflightRequestDeduplication: true };\n');
    const hiveBin = path.join(ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js');
    const hive = spawn(process.execPath, [hiveBin, 'supergraph', supergraph, '--jit', '--host', '127.0.0.1', '--port', String(PORTS.hive), '-c', path.join(tmp, 'gateway.config.mjs')], {
      cwd: tmp,
      stdio: 'ignore',
    });
    children.push(hive);
    const probe = JSON.stringify({ query: '{ __typename }' });
    await waitFor(`http://127.0.0.1:${PORTS.folio}/graphql`, probe);
    await waitFor(`http://127.0.0.1:${PORTS.hive}/graphql`, probe);

    const rows: Row[] = [];
    for (const query of QUERIES) {
      if (query.direct) {
        // The subgraph as Folio's gateway calls it: with signed identity headers (valid 60 s, re-signed per run).
        const direct = `http://127.0.0.1:${PORTS[query.direct]}/graphql`;
        rows.push(await measure(query, 'subgraph-direct', direct, signIdentity({ ...ANONYMOUS, clientAddress: 'bench' }, (await import('../gateway/testkit.js')).TEST_SECRET)));
      }
      rows.push(await measure(query, 'hive-gateway', `http://127.0.0.1:${PORTS.hive}/graphql`, {}));
      rows.push(await measure(query, 'folio-gateway', `http://127.0.0.1:${PORTS.folio}/graphql`, {}));
    }
    report(rows);
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

function report(rows: Row[]): void {
  const at = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, loadavg: os.loadavg() };
  const versions = Object.fromEntries(['@apollo/gateway', '@apollo/server', '@graphql-hive/gateway', 'graphql', 'undici', 'autocannon'].map((n) => [n, versionOf(n)]));
  const settings = { durationSec: DURATION, warmupSec: WARMUP, connections: CONNECTIONS, node: process.version };
  const ratios = QUERIES.map((q) => {
    const get = (t: string) => rows.find((r) => r.query === q.id && r.target === t);
    const folio = get('folio-gateway')!;
    const hive = get('hive-gateway')!;
    const direct = get('subgraph-direct');
    return {
      query: q.id,
      folioVsHiveRps: +(folio.rps / hive.rps).toFixed(2),
      folioVsHiveP99: +(folio.p99 / Math.max(1, hive.p99)).toFixed(2),
      ...(direct ? { folioVsDirectRps: +(folio.rps / direct.rps).toFixed(2) } : {}),
    };
  });
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const base = path.join(ROOT, 'bench/results', `gateway-${at}`);
  writeFileSync(`${base}.json`, JSON.stringify({ at, machine, versions, settings, queries: QUERIES, rows, ratios }, null, 2));
  const lines = [
    `# Gateway benchmark ${at}`,
    '',
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGb} GB, ${machine.os}, load average at end ${machine.loadavg.map((l) => l.toFixed(1)).join(' ')}.`,
    `Node ${process.version}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `autocannon: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured per row; all processes share the machine.`,
    '',
    '| query | target | RPS | p50 ms | p99 ms | errors | non-2xx |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.query} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`),
    '',
    '| query | Folio/Hive RPS | Folio/Hive p99 | Folio/direct RPS |',
    '| --- | ---: | ---: | ---: |',
    ...ratios.map((r) => `| ${r.query} | ${r.folioVsHiveRps} | ${r.folioVsHiveP99} | ${'folioVsDirectRps' in r ? r.folioVsDirectRps : '-'} |`),
    '',
    ...QUERIES.map((q) => `- \`${q.id}\`: \`${q.query}\` (${q.note})`),
    '',
  ];
  writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(lines.join('\n'));
}

const [role, arg] = process.argv.slice(2);
if (role === 'subgraphs') await runSubgraphs(arg!);
else if (role === 'folio') await runFolio(arg!);
else await orchestrate();
