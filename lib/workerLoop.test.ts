import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { eventually } from '../test/kit/eventually.js';
import type { Logger } from './logger.js';
import { WorkerLoop } from './workerLoop.js';

function recordingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  return { lines, logger: pino<never>({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

describe('worker loop', () => {
  it('recovers before the first step, retrying recovery until it succeeds', async () => {
    const { logger } = recordingLogger();
    const order: string[] = [];
    let recoverTries = 0;
    const loop = new WorkerLoop({
      name: 'test worker',
      logger,
      pollMs: 5,
      maxBackoffMs: 10,
      recover: async () => {
        order.push('recover');
        if (++recoverTries < 3) throw new Error('store down');
      },
      step: async () => {
        order.push('step');
        return false;
      },
    });
    loop.start();
    await eventually(async () => order.includes('step'));
    await loop.stop();
    expect(order.slice(0, 4)).toEqual(['recover', 'recover', 'recover', 'step']);
  });

  it('runs again at once after work, waits pollMs when idle, and wakes on kick', async () => {
    const { logger } = recordingLogger();
    let steps = 0;
    let queued = 3;
    const loop = new WorkerLoop({ name: 'test worker', logger, pollMs: 60_000, step: async () => (steps++, queued > 0 ? (queued--, true) : false) });
    loop.start();
    await eventually(async () => steps === 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(steps).toBe(4); // idle: the next look is a minute away
    queued = 1;
    loop.kick();
    await eventually(async () => steps === 6);
    await loop.stop();
    expect(loop.stopping).toBe(true);
  });

  it('backs off exponentially while failing and logs once per state change', async () => {
    const { logger, lines } = recordingLogger();
    let tries = 0;
    let failing = true;
    const loop = new WorkerLoop({
      name: 'test worker',
      logger,
      pollMs: 10,
      maxBackoffMs: 80,
      step: async () => {
        tries++;
        if (failing) throw new Error('disk full');
        return false;
      },
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 500));
    // 10, 20, 40, 80, 80, … ms between tries: about 9 in 500 ms, not 50.
    expect(tries).toBeGreaterThanOrEqual(4);
    expect(tries).toBeLessThanOrEqual(12);
    failing = false;
    await eventually(async () => lines.some((l) => l.msg === 'test worker recovered'));
    await loop.stop();
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(['test worker failing; backing off until it works again']);
  });

  it('aborts the running step at stop and waits for it to end', async () => {
    const { logger } = recordingLogger();
    let ended = false;
    const loop = new WorkerLoop({
      name: 'test worker',
      logger,
      pollMs: 10,
      step: (signal) =>
        new Promise<boolean>((resolve) =>
          signal.addEventListener('abort', () => {
            ended = true;
            resolve(true);
          }),
        ),
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 20));
    await loop.stop();
    expect(ended).toBe(true);
  });
});
