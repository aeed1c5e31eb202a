/**
 * Shared rate limits: two gateway instances on one Redis spend one budget. Needs `redis-server` on
 * PATH (started here on a free loopback port, stopped after); skipped with a message otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './kit/gatewayStack.js';
import { errorCodes, graphql } from './kit/platform.js';

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasRedis) console.warn('gateway.redis.e2e: skipped — `redis-server` is not on PATH (Debian: apt-get install redis-server).');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

describe.skipIf(!hasRedis)('rate limits shared through Redis', () => {
  let redis: { url: string; process: ChildProcess };
  let stack: TestStack;
  let second: string;
  beforeAll(async () => {
    redis = await startRedis();
    const env = { FOLIO_REDIS_URL: redis.url, FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '4/60' };
    stack = await startTestStack(env);
    second = await stack.addGateway(env);
  });
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
    if (redis && redis.process.exitCode === null) {
      const exited = new Promise((resolve) => redis.process.once('exit', resolve));
      redis.process.kill('SIGTERM');
      await exited;
    }
  });

  it('two gateway instances spend one budget per client address', async () => {
    const query = '{ books { id } }';
    const statuses: number[] = [];
    // Alternate instances: each alone would allow 4, together they allow 4.
    for (const url of [stack.gateway, second, stack.gateway, second]) statuses.push((await graphql(url, query)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const over = await graphql(second, query);
    expect(over.status).toBe(429);
    expect(errorCodes(over)).toEqual(['RATE_LIMITED']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await graphql(stack.gateway, query)).status).toBe(429);
    // Another application has its own budget, in Redis too.
    expect((await graphql(second, query, {}, { headers: { 'apollographql-client-name': 'reader-web' } })).status).toBe(200);
  });
});
