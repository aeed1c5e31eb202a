/**
 * Slows password guessing: failed logins are counted per username and per client address in
 * the accounts database (so every accounts instance sees the same counts), and a key over its
 * budget is refused until its window ends. A success clears the username's count.
 */
import { FolioError } from '../../lib/errors.js';
import type { DocCollection } from '../../lib/storage/types.js';
import type { LoginAttemptDoc } from './store.js';

export interface LoginThrottleOptions {
  /** Failures allowed per username in a window. @default 5 */
  readonly perUsername: number;
  /** Failures allowed per client address in a window (shared NATs need headroom). @default 30 */
  readonly perAddress: number;
  /** Window length. @default 15 minutes */
  readonly windowMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { perUsername: 5, perAddress: 30, windowMs: 15 * 60_000 };

export class LoginThrottle {
  constructor(
    private readonly attempts: DocCollection<LoginAttemptDoc>,
    private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
  ) {}

  private keys(username: string, address: string): Array<{ key: string; limit: number }> {
    return [
      { key: `user:${username}`, limit: this.options.perUsername },
      { key: `addr:${address}`, limit: this.options.perAddress },
    ];
  }

  /** Throws RATE_LIMITED when either key is over budget. */
  async check(username: string, address: string, now = new Date()): Promise<void> {
    const docs = await this.attempts.find({ _id: { $in: this.keys(username, address).map((k) => k.key) } }).toArray();
    for (const { key, limit } of this.keys(username, address)) {
      const doc = docs.find((d) => d._id === key);
      if (!doc) continue;
      const endsAt = doc.windowStart.getTime() + this.options.windowMs;
      if (endsAt > now.getTime() && doc.failures >= limit) {
        const retryAfterSeconds = Math.ceil((endsAt - now.getTime()) / 1000);
        throw new FolioError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${retryAfterSeconds} seconds.`, {
          details: { retryAfterSeconds },
        });
      }
    }
  }

  async recordFailure(username: string, address: string, now = new Date()): Promise<void> {
    const windowFloor = new Date(now.getTime() - this.options.windowMs);
    await Promise.all(
      this.keys(username, address).map(async ({ key }) => {
        // A window that has ended starts over; otherwise count one more failure.
        const reset = await this.attempts.updateOne({ _id: key, windowStart: { $lte: windowFloor } }, { $set: { failures: 1, windowStart: now } });
        if (reset.matchedCount === 0) {
          await this.attempts.updateOne({ _id: key }, { $inc: { failures: 1 }, $setOnInsert: { windowStart: now } }, { upsert: true });
        }
      }),
    );
  }

  async recordSuccess(username: string): Promise<void> {
    await this.attempts.deleteOne({ _id: `user:${username}` });
  }
}
