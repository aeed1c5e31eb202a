/**
 * Slows password guessing without handing an attacker a way to lock the owner out, after the
 * OWASP Authentication cheat sheet ("Account lockout"; "Slow down online guessing attacks with
 * device cookies"). Every password check is reserved *before* scrypt runs, so racing requests
 * cannot get more checks than the budgets allow:
 *
 * - per username + client address: a small budget (5 failures / 15 min). A guesser at one
 *   address is stopped; the owner elsewhere is not affected. A success there starts it over.
 * - per username, from addresses it does not usually sign in from: after a few free failures
 *   each further attempt waits twice as long as the one before (1 s, 2 s, … up to 15 min),
 *   which caps a distributed guesser to a trickle. Addresses the owner signed in or registered
 *   from (for 90 days) skip this: an attacker hammering the account cannot lock its owner out.
 * - per client address, over usernames not usually signed in from there: a large budget (100 /
 *   15 min), so a guesser who sprays many usernames is stopped, while people behind one shared
 *   NAT who sign in as themselves are not. Successes only give back their own attempt; they
 *   never reset the address's count (an attacker cannot launder failures with a login of their own).
 * - registrations (one scrypt hash each) per client address: 20 / hour.
 *
 * Counters live in the accounts database, so every accounts instance shares them, and each is
 * updated in one atomic findOneAndUpdate (store.ts). rate-limiter-flexible's RateLimiterMongo was
 * considered: it needs a TTL index (the embedded engine has none) and the driver's client object
 * rather than the storage seam's collection, and it has no backoff or "known address" notion, so
 * the counters are the store's own. Refusals say when to retry and read the same whether or not
 * the username exists.
 */
import { FolioError } from '../../lib/errors.js';
import {
  giveBackToBackoff,
  giveBackToBudget,
  takeBackoffSlot,
  takeFromBudget,
  type AccountsStore,
  type BackoffRule,
  type BudgetRule,
} from './store.js';

export interface LoginThrottleOptions {
  /** Failed sign-ins per username + client address in `windowMs`. @default 5 */
  readonly perPair: number;
  /** Failed sign-ins per client address, over usernames not familiar there, in `windowMs`. @default 100 */
  readonly perAddress: number;
  /** Window of the two budgets above. @default 15 minutes */
  readonly windowMs: number;
  /** Failures per username from unfamiliar addresses before attempts start to wait. @default 10 */
  readonly usernameFree: number;
  /** First wait after the free failures; it doubles each time. @default 1 s */
  readonly usernameBaseDelayMs: number;
  /** Longest wait between two attempts on one username. @default 15 minutes */
  readonly usernameMaxDelayMs: number;
  /** A username's run of failures is forgotten after this long without an attempt (longer than the longest wait). @default 24 hours */
  readonly usernameResetAfterMs: number;
  /** How long an address where a user signed in stays familiar for that user. @default 90 days */
  readonly knownForMs: number;
  /** Registrations per client address in `registrationWindowMs`. @default 20 */
  readonly registrationsPerAddress: number;
  /** @default 1 hour */
  readonly registrationWindowMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  perPair: 5,
  perAddress: 100,
  windowMs: 15 * 60_000,
  usernameFree: 10,
  usernameBaseDelayMs: 1_000,
  usernameMaxDelayMs: 15 * 60_000,
  usernameResetAfterMs: 24 * 3_600_000,
  knownForMs: 90 * 24 * 3_600_000,
  registrationsPerAddress: 20,
  registrationWindowMs: 3_600_000,
};

/** Which rule refused (for metrics and logs; never told to the client). */
export type ThrottleRule = 'pair' | 'address' | 'username' | 'registration';

/** A reserved sign-in attempt: it counts as a failure unless `succeeded()` is called. */
export interface LoginAttempt {
  succeeded(): Promise<void>;
}

export interface LoginThrottleHooks {
  /** Called once per refused request with the rule that refused it. */
  readonly refused?: (rule: ThrottleRule) => void;
}

const rateLimited = (what: string, retryAfterMs: number): FolioError => {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new FolioError('RATE_LIMITED', `Too many ${what}. Try again in ${retryAfterSeconds} seconds.`, { details: { retryAfterSeconds } });
};

export class LoginThrottle {
  private readonly pairRule: BudgetRule;
  private readonly addressRule: BudgetRule;
  private readonly usernameRule: BackoffRule;
  private readonly registrationRule: BudgetRule;

  constructor(
    private readonly store: Pick<AccountsStore, 'throttle' | 'knownAddresses'>,
    private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
    private readonly hooks: LoginThrottleHooks = {},
  ) {
    this.pairRule = { limit: options.perPair, windowMs: options.windowMs };
    this.addressRule = { limit: options.perAddress, windowMs: options.windowMs };
    this.usernameRule = {
      free: options.usernameFree,
      baseDelayMs: options.usernameBaseDelayMs,
      maxDelayMs: options.usernameMaxDelayMs,
      resetAfterMs: Math.max(options.usernameResetAfterMs, options.usernameMaxDelayMs * 2),
    };
    this.registrationRule = { limit: options.registrationsPerAddress, windowMs: options.registrationWindowMs };
  }

  /**
   * Reserves one password check for `username` from `address`, or throws RATE_LIMITED. Call it
   * before the check; the reservation stands as a failure unless `succeeded()` follows.
   */
  async beginLogin(username: string, address: string, now = Date.now()): Promise<LoginAttempt> {
    const familiar = await this.isFamiliar(username, address, now);
    const giveBacks: Array<() => Promise<void>> = [];
    const coll = this.store.throttle;
    const refuse = async (rule: ThrottleRule, retryAfterMs: number): Promise<never> => {
      // A refused request is not an attempt: what it took from the earlier rules goes back.
      await Promise.all(giveBacks.map((giveBack) => giveBack()));
      this.hooks.refused?.(rule);
      throw rateLimited('sign-in attempts', retryAfterMs);
    };

    const pair = await takeFromBudget(coll, pairKey(username, address), this.pairRule, now);
    if (!pair.taken) return refuse('pair', pair.doc.since + this.pairRule.windowMs - now);
    giveBacks.push(() => giveBackToBudget(coll, pair));
    
    if (!familiar) {
      const perAddress = await takeFromBudget(coll, `addr:${address}`, this.addressRule, now);
      if (!perAddress.taken) return refuse('address', perAddress.doc.since + this.addressRule.windowMs - now);
      giveBacks.push(() => giveBackToBudget(coll, perAddress));

      const perUsername = await takeBackoffSlot(coll, `user:${username}`, this.usernameRule, now);
      if (!perUsername.taken) return refuse('username', (perUsername.doc.nextAt ?? now) - now);
      giveBacks.push(() => giveBackToBackoff(coll, perUsername));
    }

    return {
      succeeded: async () => {
        // The pair starts over (the owner proved themselves here); the shared counters only get
        // this attempt back, so a success never wipes out other people's failures.
        await Promise.all([coll.deleteOne({ _id: pair.doc._id }), ...giveBacks.slice(1).map((giveBack) => giveBack()), this.remember(username, address)]);
      },
    };
  }

  /** Reserves one registration for `address`, or throws RATE_LIMITED. */
  async beginRegistration(address: string, now = Date.now()): Promise<void> {
    const take = await takeFromBudget(this.store.throttle, `reg:${address}`, this.registrationRule, now);
    if (take.taken) return;
    this.hooks.refused?.('registration');
    throw rateLimited('new accounts from your network', take.doc.since + this.registrationRule.windowMs - now);
  }

  /** Marks `address` as one `username` signs in from (after a success or a registration). */
  async remember(username: string, address: string, now = Date.now()): Promise<void> {
    await this.store.knownAddresses.updateOne({ _id: pairKey(username, address) }, { $set: { lastSuccessAt: now } }, { upsert: true });
  }

  private async isFamiliar(username: string, address: string, now: number): Promise<boolean> {
    const doc = await this.store.knownAddresses.findOne({ _id: pairKey(username, address) });
    return doc !== null && doc.lastSuccessAt > now - this.options.knownForMs;
  }
}

// JSON keeps the two parts apart whatever characters a typed username holds.
const pairKey = (username: string, address: string): string => `pair:${JSON.stringify([username, address])}`;
