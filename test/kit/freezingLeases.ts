/**
 * Crash simulation for worker tests, injected rather than built into production classes: a
 * LeaseManager whose holder freezes after `renewals` renewals. The next `renew()` never settles,
 * so the worker stops mid-job without finishing it or releasing its lease, which then expires as
 * a killed process's would. `frozen` resolves when that happens.
 */
import { LeaseManager, type Lease, type LeaseOptions } from '../../lib/leases.js';
import type { WorkerIdentity } from '../../lib/instance.js';
import type { FolioDb } from '../../lib/storage/index.js';

export class FreezingLeaseManager extends LeaseManager {
  readonly frozen: Promise<void>;
  private freeze!: () => void;

  constructor(
    db: FolioDb,
    private readonly renewals: number,
    identity?: WorkerIdentity,
  ) {
    super(db, 'leases', identity);
    this.frozen = new Promise((resolve) => (this.freeze = resolve));
  }

  override async tryAcquire(name: string, options?: LeaseOptions): Promise<Lease | null> {
    const lease = await super.tryAcquire(name, options);
    if (!lease) return null;
    let left = this.renewals;
    const renew = (): Promise<boolean> => {
      if (left-- > 0) return lease.renew();
      this.freeze();
      return new Promise<boolean>(() => {});
    };
    return { name: lease.name, owner: lease.owner, signal: lease.signal, renew, release: () => lease.release() };
  }
}
