/**
 * The one background worker loop (catalog's upload pipeline, ugc's repair worker, every event
 * consumer): take back this instance's work from an earlier run, then poll → claim/run → wait,
 * woken early by `kick()`, and stopped cleanly by `stop()`.
 *
 * While a step keeps failing (a full disk, MongoDB down, a producer away) it backs off
 * exponentially up to `maxBackoffMs`, and logs once when it starts failing and once when it
 * recovers, instead of an error every poll.
 */
import type { Logger } from './logger.js';

export interface WorkerLoopOptions {
  /** Names the worker in its logs ("upload worker"). */
  readonly name: string;
  readonly logger: Logger;
  /** The wait after a step that found nothing to do. */
  readonly pollMs: number;
  /** The first wait after a failure, doubled per failure in a row. @default pollMs */
  readonly backoffMs?: number;
  /** The longest wait between failing steps. @default 30 s */
  readonly maxBackoffMs?: number;
  /**
   * Start-up: takes back the work an earlier run of this instance held (lib/instance.ts). Runs
   * before the first step, and again before the next one for as long as it fails.
   */
  readonly recover?: () => Promise<void>;
  /** Claims and runs some work; true when it did (the loop goes on at once), false when idle. `signal` aborts at stop. */
  step(signal: AbortSignal): Promise<boolean>;
}

export class WorkerLoop {
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: WorkerLoopOptions) {}

  /** True once stop() was called: long work checks it between batches. */
  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Starts once; a stopped loop stays stopped. */
  start(): void {
    if (this.stopping) return;
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.kick();
    await this.loop;
  }

  /** Looks for work now (some was just queued in this process). */
  kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { name, logger, pollMs, recover } = this.options;
    const backoffMs = this.options.backoffMs ?? pollMs;
    const maxBackoffMs = this.options.maxBackoffMs ?? 30_000;
    let recovered = recover === undefined;
    let failures = 0;
    while (!this.stopping) {
      let worked = false;
      try {
        if (!recovered) {
          await recover!();
          recovered = true;
        }
        worked = await this.options.step(this.stopController.signal);
        if (failures > 0) logger.info({ failures }, `${name} recovered`);
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        if (failures === 1) logger.error({ err }, `${name} failing; backing off until it works again`);
        else logger.debug({ err, failures }, `${name} still failing`);
      }
      if (worked || this.stopping) continue;
      await this.sleep(failures === 0 ? pollMs : Math.min(maxBackoffMs, backoffMs * 2 ** Math.min(failures - 1, 20)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
