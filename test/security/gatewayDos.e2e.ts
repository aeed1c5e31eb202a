/**
 * Issue 9 §3, from the attacker's side: one client must not be able to make the gateway refuse
 * everyone. A real gateway over real subgraphs (test/kit/gatewayStack.ts); client addresses are told
 * apart through X-Forwarded-For from a trusted proxy (127.0.0.1), as behind a load balancer.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../kit/gatewayStack.js';
import { errorCodes, graphql } from '../kit/platform.js';

const asClient = (address: string): { headers: Record<string, string> } => ({ headers: { 'x-forwarded-for': address } });

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** A well-behaved client: `count` requests, `parallel` at a time; returns statuses and latencies. */
async function wellBehaved(url: string, count: number, parallel: number): Promise<{ statuses: number[]; latencies: number[] }> {
  const statuses: number[] = [];
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        const started = performance.now();
        const result = await graphql(url, '{ uncached }', {}, asClient('10.0.0.7'));
        latencies.push(performance.now() - started);
        statuses.push(result.status);
      }
    }),
  );
  return { statuses, latencies };
}

describe('denial of service by one client (issue 9 §3)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      FOLIO_GATEWAY_MAX_IN_FLIGHT: '40',
      FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: '8',
      FOLIO_GATEWAY_BODY_TIMEOUT_MS: '1500',
      FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '100000/60',
    });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('answers 740 × `{ books { id } }` (each with a unique comment) at once with OPERATION_LIMIT_EXCEEDED, and the worst accepted shape quickly, while another client is served', async () => {
    const attack = async (i: number): Promise<{ ms: number; codes: Array<string | undefined>; status: number }> => {
      const started = performance.now();
      const result = await graphql(stack.gateway, `# ${i}-${Math.random()}\n{ ${'books { id } '.repeat(740)}}`, {}, asClient('10.0.0.66'));
      return { ms: performance.now() - started, codes: errorCodes(result), status: result.status };
    };
    const [attacks, served] = await Promise.all([Promise.all(Array.from({ length: 10 }, (_, i) => attack(i))), wellBehaved(stack.gateway, 20, 2)]);
    for (const a of attacks) {
      expect(a.status).toBe(400);
      expect(a.codes).toEqual(['OPERATION_LIMIT_EXCEEDED']);
      // graphql-js's pairwise rule took 0.3–3 s for each of these documents, one after another on the
      // event loop; the field count refuses each in a walk. Generous for a loaded CI machine.
      expect(a.ms).toBeLessThan(2500);
    }
    expect(served.statuses.every((s) => s === 200)).toBe(true);

    // The largest document of that shape the limits let through (500 fields) validates and runs.
    const started = performance.now();
    const accepted = await graphql(stack.gateway, `# ${Math.random()}\n{ ${'books { id } '.repeat(250)}}`, {}, asClient('10.0.0.66'));
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data?.books).toHaveLength(3);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('still rejects genuinely conflicting aliases', async () => {
    const result = await graphql(stack.gateway, '{ books { id: title id } }');
    expect(result.status).toBe(400);
    expect(errorCodes(result)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(result.errors?.[0]?.message).toMatch(/Fields "id" conflict/);
  });

  it('cuts 40 slow-body connections with 408 after the body deadline, and another client gets no 503 meanwhile', async () => {
    const { hostname, port } = new URL(stack.gateway);
    const slow = Array.from({ length: 40 }, () => {
      const socket = net.connect(Number(port), hostname);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', () => {});
      socket.write(`POST /graphql HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\nx-forwarded-for: 10.0.0.66\r\ncontent-length: 1000\r\n\r\n{`);
      const drip = setInterval(() => socket.write(' '), 400);
      const closed = new Promise<number>((resolve) => {
        const opened = performance.now();
        socket.on('close', () => {
          clearInterval(drip);
          resolve(performance.now() - opened);
        });
      });
      return { socket, closed, answer: () => answer };
    });
    await new Promise((r) => setTimeout(r, 300)); // all 40 are sending
    const served = await wellBehaved(stack.gateway, 20, 4);
    expect(served.statuses.every((s) => s === 200)).toBe(true);

    const lifetimes = await Promise.race([Promise.all(slow.map((s) => s.closed)), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('slow bodies still open after 8 s')), 8000))]);
    for (const s of slow) {
      expect(s.answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(s.answer()).toContain('"REQUEST_TIMEOUT"');
    }
    expect(Math.max(...lifetimes)).toBeLessThan(5000);
  });

  it('sheds one flooding client (200 concurrent requests) with RATE_LIMITED while a second client is served in full', async () => {
    const floodStatuses: number[] = [];
    const flood = Promise.all(
      Array.from({ length: 200 }, async () => {
        // Each request stays in flight for 150 ms, so the flood's concurrency reaches the gateway.
        const result = await graphql(stack.gateway, '{ slow(ms: 150) }', {}, asClient('10.0.0.66'));
        floodStatuses.push(result.status);
        if (result.status !== 200) expect(errorCodes(result)).toEqual(['RATE_LIMITED']);
      }),
    );
    const served = await wellBehaved(stack.gateway, 40, 4);
    await flood;
    expect(served.statuses.every((s) => s === 200)).toBe(true);
    expect(floodStatuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    console.log(
      `fairness: flooding client 200 concurrent → ${floodStatuses.filter((s) => s === 200).length} served, ${floodStatuses.filter((s) => s === 429).length} × 429; ` +
        `well-behaved client ${served.statuses.length} requests all 200, p50 ${served.latencies.sort((a, b) => a - b)[Math.floor(served.latencies.length / 2)]!.toFixed(1)} ms, p99 ${p99(served.latencies).toFixed(1)} ms`,
    );
  });
});
