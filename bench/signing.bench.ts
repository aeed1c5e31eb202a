/**
 * What request signing (lib/signing.ts) costs per subgraph request, sender and receiver, against
 * the scheme it replaced (one HMAC over the caller, once per client request, verified by one HMAC),
 * for subgraph request bodies of typical sizes. Writes bench/results/signing-<time>.{json,md}.
 *
 *   npx tsx bench/signing.bench.ts      (BENCH_ITERATIONS=50000)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Caller } from '../lib/identity.js';
import { RequestVerifier, signRequest } from '../lib/signing.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50_000);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const caller: Caller = { userId: '6650f1c2a1b2c3d4e5f60718', roles: ['READER'], sessionId: '6650f1c2a1b2c3d4e5f60719', partnerId: null, scopes: [], clientAddress: '203.0.113.7', territory: 'DE' };

/** The replaced scheme: HMAC over the caller's fields and an expiry, nothing of the request. */
function previousSign(now: number): { fields: string; signature: string } {
  const fields = [caller.userId, caller.roles.join(','), caller.sessionId, '', '', caller.clientAddress, caller.territory, String(now + 60_000)].join('\n');
  return { fields, signature: createHmac('sha256', SECRET).update(fields).digest('base64url') };
}
function previousVerify(signed: { fields: string; signature: string }): boolean {
  const expected = Buffer.from(createHmac('sha256', SECRET).update(signed.fields).digest('base64url'));
  const given = Buffer.from(signed.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function bodyOf(bytes: number): string {
  const query = 'query Books($first: Int) { books(first: $first) { edges { node { id title authors } } } }';
  return JSON.stringify({ query: query.padEnd(Math.max(query.length, bytes - 40), ' '), variables: { first: 20 } });
}

/** Microseconds per call, best of three runs (the machine is shared; the best run has the least interference). */
function time(fn: (i: number) => void): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e3 / ITERATIONS);
  }
  return +best.toFixed(2);
}

const rows: Array<Record<string, number>> = [];
for (const bytes of [300, 2_000, 20_000]) {
  const body = bodyOf(bytes);
  const request = { audience: 'catalog', method: 'POST', pathAndQuery: '/graphql', body };
  const now = Date.now();
  const previousSignUs = time(() => previousSign(now));
  const previous = previousSign(now);
  const previousVerifyUs = time(() => previousVerify(previous));
  const signUs = time(() => signRequest(SECRET, request, caller));
  // Each verification needs a fresh nonce: sign ahead of time (not timed), then verify each once.
  const verifier = new RequestVerifier({ secret: SECRET, audience: 'catalog', maxNonces: 4 * ITERATIONS });
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const signed = Array.from({ length: ITERATIONS }, () => signRequest(SECRET, request, caller));
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) if (!verifier.verify(signed[i]!, request).ok) throw new Error('verification failed');
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e3 / ITERATIONS);
  }
  const verifyUs = +best.toFixed(2);
  rows.push({ bodyBytes: body.length, previousSignUs, previousVerifyUs, signUs, verifyUs });
  console.log(JSON.stringify(rows.at(-1)));
}

const at = new Date().toISOString().replace(/[:.]/g, '-');
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((l) => +l.toFixed(2)) };
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `signing-${at}.json`), JSON.stringify({ machine, iterations: ITERATIONS, rows }, null, 2));
const table = [
  '| body bytes | previous sign µs (once per client request) | previous verify µs | sign µs (per subgraph request) | verify µs (incl. nonce) |',
  '| ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.bodyBytes} | ${r.previousSignUs} | ${r.previousVerifyUs} | ${r.signUs} | ${r.verifyUs} |`),
].join('\n');
writeFileSync(
  path.join(dir, `signing-${at}.md`),
  `# Request signing cost (${at})\n\n${ITERATIONS} calls per cell, best of three. Machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadavg.join(' ')} (shared machine).\n\n${table}\n`,
);
console.log(table);
