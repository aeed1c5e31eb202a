/**
 * Leases: the one way work is claimed across processes. A lease is two fields on a document (who
 * holds it, until when), taken with one atomic update whose filter says "free, expired, or already
 * mine", extended by renewal, and cleared on release. A holder that dies simply stops renewing;
 * when the lease expires another worker takes it and resumes from the recorded progress, and an
 * earlier run of this same instance (lib/instance.ts) has its leases taken back at start-up.
 *
 * `LeaseFields` is that rule for any document: catalog keeps the lease on the upload job itself
 * (`leaseOwner`/`leaseUntil`, so claiming picks the job and leases it in one update), and
 * `LeaseManager` is the lock service of named leases (`owner`/`expiresAt` on documents of a
 * `leases` collection) for work without a document of its own: a repair of a book, an event
 * consumer, an index rebuild. Works on MongoDB and on the embedded engine alike.
 */
import { randomUUID } from 'node:crypto';
import { ownersOfInstance, type WorkerIdentity } from './instance.js';
import type { FolioDb } from './storage/index.js';
import { isDuplicateKeyError } from './storage/index.js';
import type { DocCollection, Document, Filter } from './storage/types.js';

/** Who takes leases: this instance across restarts (lib/instance.ts), or a one-off owner without one. */
export const leaseOwnerOf = (identity: WorkerIdentity | undefined): string => identity?.owner ?? `${process.pid}-${randomUUID()}`;

/** A lease kept in two fields of a document: who holds it, and until when. */
export class LeaseFields<T extends Document> {
  constructor(
    private readonly ownerField: keyof T & string,
    private readonly untilField: keyof T & string,
  ) {}

  /** Filter clauses (for `$or`): nobody holds it, or its holder stopped renewing. */
  free(now: Date): Filter<T>[] {
    return [{ [this.untilField]: null }, { [this.untilField]: { $lte: now } }] as Filter<T>[];
  }

  /** Filter: `owner` holds it (fences every write made under the lease). */
  heldBy(owner: string): Filter<T> {
    return { [this.ownerField]: owner } as Filter<T>;
  }

  /** `$set` fields that take or renew the lease for `owner` for `ttlMs`. */
  take(owner: string, now: Date, ttlMs: number): Partial<T> {
    return { [this.ownerField]: owner, [this.untilField]: new Date(now.getTime() + ttlMs) } as Partial<T>;
  }

  /** `$set` fields of a released lease. */
  released(): Partial<T> {
    return { [this.ownerField]: null, [this.untilField]: null } as Partial<T>;
  }

  /** A lease that was taken and has run out without renewal: its holder is gone. */
  expired(doc: T, now: Date): boolean {
    const until = doc[this.untilField] as Date | null | undefined;
    return until !== null && until !== undefined && until <= now;
  }

  /** Filter: someone holds it now. */
  held(now: Date): Filter<T> {
    return { [this.untilField]: { $gt: now } } as Filter<T>;
  }

  /**
   * Start-up: the documents matching `filter` whose lease an earlier run of this instance still
   * holds (it crashed or was killed, so nobody renews them), to be taken back now rather than
   * when they expire.
   */
  async heldByPreviousSelf(collection: DocCollection<T>, identity: WorkerIdentity | undefined, filter: Filter<T> = {}): Promise<T[]> {
    if (!identity) return [];
    const held = await collection.find({ ...filter, [this.ownerField]: ownersOfInstance(identity.instanceId) } as Filter<T>).toArray();
    return (held as T[]).filter((doc) => identity.isPreviousSelf(doc[this.ownerField] as string));
  }
}

export interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: Date;
  acquiredAt: Date;
}

/** Where a named lease keeps its lease. */
const NAMED = new LeaseFields<LeaseDoc>('owner', 'expiresAt');

export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Aborted when the lease is lost (renewal failed or it was taken over). */
  readonly signal: AbortSignal;
  /** Extends the lease; false when it was lost. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal. @default 30 s */
  readonly ttlMs?: number;
  /** Renew automatically every ttl/3 while held. @default true */
  readonly autoRenew?: boolean;
}

export class LeaseManager {
  private readonly leases: DocCollection<LeaseDoc>;
  /** This process's identity as a lease owner. */
  readonly ownerId: string;

  /** With `identity`, leases left by an earlier run of this instance can be taken back (releasePreviousSelf). */
  constructor(
    db: FolioDb,
    collectionName = 'leases',
    private readonly identity?: WorkerIdentity,
  ) {
    this.leases = db.collection<LeaseDoc>(collectionName);
    this.ownerId = leaseOwnerOf(identity);
  }

  /**
   * At start-up: frees the leases an earlier run of this instance still held (it crashed or was
   * killed, so nobody renews them) and returns their names, so their work resumes now rather
   * than when they expire.
   */
  async releasePreviousSelf(): Promise<string[]> {
    const mine = await NAMED.heldByPreviousSelf(this.leases, this.identity);
    for (const lease of mine) await this.leases.deleteOne({ _id: lease._id, owner: lease.owner });
    return mine.map((l) => l._id);
  }

  /** Takes the lease if it is free or expired; null when another owner holds it. */
  async tryAcquire(name: string, options: LeaseOptions = {}): Promise<Lease | null> {
    const ttlMs = options.ttlMs ?? 30_000;
    const now = new Date();
    try {
      const doc = await this.leases.findOneAndUpdate(
        // Re-entrant: a named lease is one piece of work, so its holder taking it again is no conflict.
        { _id: name, $or: [...NAMED.free(now), NAMED.heldBy(this.ownerId)] },
        { $set: { ...NAMED.take(this.ownerId, now, ttlMs), acquiredAt: now } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!doc || doc.owner !== this.ownerId) return null;
    } catch (error) {
      // The lease exists and is held: the filter missed, so the upsert collided with its _id.
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
    return this.handle(name, ttlMs, options.autoRenew ?? true);
  }

  private handle(name: string, ttlMs: number, autoRenew: boolean): Lease {
    const controller = new AbortController();
    const { ownerId: owner, leases } = this;
    let timer: NodeJS.Timeout | undefined;
    const renew = async (): Promise<boolean> => {
      if (controller.signal.aborted) return false;
      const result = await leases.updateOne({ _id: name, ...NAMED.heldBy(owner) }, { $set: NAMED.take(owner, new Date(), ttlMs) }).catch(() => null);
      if (!result || result.matchedCount === 0) {
        controller.abort(new Error(`lease ${name} lost`));
        if (timer) clearInterval(timer);
        return false;
      }
      return true;
    };
    if (autoRenew) {
      timer = setInterval(() => void renew(), Math.max(100, Math.floor(ttlMs / 3)));
      timer.unref();
    }
    return {
      name,
      owner,
      signal: controller.signal,
      renew,
      async release() {
        if (timer) clearInterval(timer);
        if (!controller.signal.aborted) controller.abort(new Error(`lease ${name} released`));
        await leases.deleteOne({ _id: name, owner });
      },
    };
  }
}

/** Whether someone holds the lease `name` in `db` now (it exists and has not expired). */
export async function isLeaseHeld(db: FolioDb, name: string, collectionName = 'leases'): Promise<boolean> {
  return (await db.collection<LeaseDoc>(collectionName).countDocuments({ _id: name, ...NAMED.held(new Date()) })) > 0;
}
