import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { acquireWorkerPool } from './index.js';
import { receivePaced } from './paced.js';

const task = (name: string) => ({ module: new URL('../../test/kit/workerTasks.ts', import.meta.url).href, name });

describe('worker pool', () => {
  it('runs a TypeScript task off the main thread and passes MessagePorts through', async () => {
    const pool = acquireWorkerPool(1);
    try {
      const where = await pool.run<{ echo: string; isMainThread: boolean; threadId: number }>(task('whereAmI'), { echo: 'hi' });
      expect(where).toMatchObject({ echo: 'hi', isMainThread: false });
      expect(where.threadId).toBeGreaterThan(0);

      const { port1, port2 } = new MessageChannel();
      const seen: number[] = [];
      const allSeen = new Promise<void>((resolve) => port1.on('message', (n: number) => seen.push(n) === 3 && resolve()));
      expect(await pool.run(task('countTo'), { n: 3, port: port2 }, [port2])).toBe(3);
      await allSeen;
      port1.close();
      expect(seen).toEqual([1, 2, 3]);
      await expect(pool.run(task('fail'), {})).rejects.toThrow('task failed on purpose');
    } finally {
      await pool.release();
    }
  });

  it('shares one pool per size and runs inline with 0 threads', async () => {
    const a = acquireWorkerPool(1);
    const b = acquireWorkerPool(1);
    const first = await a.run<{ threadId: number }>(task('whereAmI'), { echo: '' });
    await a.release();
    // b still holds the pool: it keeps working after a's release.
    expect((await b.run<{ threadId: number }>(task('whereAmI'), { echo: '' })).threadId).toBe(first.threadId);
    await b.release();

    const inline = acquireWorkerPool(0);
    expect(await inline.run(task('whereAmI'), { echo: 'x' })).toMatchObject({ echo: 'x', isMainThread: true });
  });

  it('paces a stream from a thread: all messages in order, never more than two handled in one loop turn', async () => {
    const pool = acquireWorkerPool(1);
    // A turn counter: the setImmediate chain advances once per turn of this loop.
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    tick();
    try {
      const { port1, port2 } = new MessageChannel();
      const seen: number[] = [];
      const perTurn = new Map<number, number>();
      receivePaced<number>(port1, (n) => {
        seen.push(n);
        perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      });
      expect(await pool.run(task('pacedCount'), { n: 200, port: port2 }, [port2])).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      port1.close();
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    } finally {
      ticking = false;
      await pool.release();
    }
  });
});
