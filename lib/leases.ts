/**
 * The lock service: named leases in the owner's database, taken with one atomic
 * findOneAndUpdate and kept alive by renewal. A holder that dies simply stops renewing; when the
 * lease expires another worker takes it and resumes from the recorded progress. Works across
 * processes on MongoDB and on the embedded engine alike.
 */
import { randomUUID } from 'node:crypto';
import { ownersOfInstance, type WorkerIdentity } from './instance.js';
import type { FolioDb } from './storage/index.js';
import { isDuplicateKeyError } from './storage/index.js';
import type { DocCollection } from './storage/types.js';

export interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: Date;
  acquiredAt: Date;
}

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
    this.ownerId = identity?.owner ?? `${process.pid}-${randomUUID()}`;
  }

  /**
   * At start-up: frees the leases an earlier run of this instance still held (it crashed or was
   * killed, so nobody renews them) and returns their names, so their work resumes now rather
   * than when they expire.
   */
  async releasePreviousSelf(): Promise<string[]> {
    const identity = this.identity;
    if (!identity) return [];
    const held = await this.leases.find({ owner: ownersOfInstance(identity.instanceId) }, { projection: { _id: 1, owner: 1 } }).toArray();
    const mine = held.filter((l) => identity.isPreviousSelf(l.owner));
    for (const lease of mine) await this.leases.deleteOne({ _id: lease._id, owner: lease.owner });
    return mine.map((l) => l._id);
  }


  /** Takes the lease if it is free or expired; null when another owner holds it. */
  async tryAcquire(name: string, options: LeaseOptions = {}): Promise<Lease | null> {
    const ttlMs = options.ttlMs ?? 30_000;
    const now = new Date();
    try {
      const doc = await this.leases.findOneAndUpdate(
        { _id: name, $or: [{ expiresAt: { $lte: now } }, { owner: this.ownerId }] },
        { $set: { owner: this.ownerId, expiresAt: new Date(now.getTime() + ttlMs), acquiredAt: now } },
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
    const owner = this.ownerId;
    const leases = this.leases;
    let timer: NodeJS.Timeout | undefined;
    const renew = async (): Promise<boolean> => {
      if (controller.signal.aborted) return false;
      const result = await leases.updateOne({ _id: name, owner }, { $set: { expiresAt: new Date(Date.now() + ttlMs) } }).catch(() => null);
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
  return (await db.collection<LeaseDoc>(collectionName).countDocuments({ _id: name, expiresAt: { $gt: new Date() } })) > 0;
}
