import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen, trackLifecycle } from './lifecycle.js';

describe('trackLifecycle', () => {
  it('drains: waits for a request in flight, says it is draining meanwhile, and stops accepting', async () => {
    let finish: (() => void) | undefined;
    const server = createServer((_req, res) => {
      finish = () => res.end('done');
    });
    const lifecycle = trackLifecycle(server);
    const port = await listen(server, 0, '127.0.0.1');
    const slow = fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    while (lifecycle.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    const drained = lifecycle.drain(5_000);
    expect(lifecycle.isDraining()).toBe(true);
    expect(lifecycle.drain(5_000)).toBe(drained);
    setTimeout(() => finish!(), 50);
    await drained;
    expect(await slow).toBe('done');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('gives up on a request that outlives the timeout', async () => {
    const server = createServer(() => {});
    const lifecycle = trackLifecycle(server);
    const port = await listen(server, 0, '127.0.0.1');
    const hung = fetch(`http://127.0.0.1:${port}/`).catch(() => 'reset');
    while (lifecycle.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    await lifecycle.drain(100);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await hung).toBe('reset');
  });
});
