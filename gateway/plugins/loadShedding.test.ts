import { describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { createLoadShedder } from './loadShedding.js';

describe('load shedding', () => {
  it('sheds new work past the in-flight threshold with SERVICE_OVERLOADED, and admits again after', () => {
    const shedder = createLoadShedder({ maxInFlight: 2 });
    shedder.enter();
    shedder.enter();
    let error: FolioError | undefined;
    try {
      shedder.enter();
    } catch (e) {
      error = e as FolioError;
    }
    expect(error?.code).toBe('SERVICE_OVERLOADED');
    expect(error?.httpStatus).toBe(503);
    shedder.leave();
    expect(() => shedder.enter()).not.toThrow();
    shedder.close();
  });

  it('sheds while the event loop lags', async () => {
    const shedder = createLoadShedder({ maxEventLoopLagMs: 20, windowMs: 100 });
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // block the loop: every timer tick is late
    }
    await new Promise((r) => setTimeout(r, 5));
    expect(shedder.lagMs).toBeGreaterThan(20);
    expect(() => shedder.enter()).toThrow(/overloaded/);
    shedder.close();
  });
});
