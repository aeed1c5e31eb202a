/**
 * Business time: what users see and rules decide by (created/updated times, finished-at, review
 * dates, session expiry, licence windows). Every service takes a `Clock`, so tests can move it.
 * Lease expiries, timeouts and durations stay on the wall clock: other processes share them.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
