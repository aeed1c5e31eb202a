/**
 * Who this process is as a worker, across restarts. Leases (lib/leases.ts, catalog's upload jobs)
 * record an owner `<instanceId>#<incarnation>`: the instance id is stable (FOLIO_INSTANCE_ID, or an
 * id kept in `<dataDir>/instance-id`), the incarnation is new at every start. A lease held by an
 * earlier incarnation of this same instance belonged to a process that is gone — this one
 * replaced it — so its work is taken back at once at start-up instead of after the lease expires
 * (a crashed upload showed PARSING for a minute, a repair job RUNNING for half a minute).
 *
 * That is only safe while one running process has a given instance id: FOLIO_INSTANCE_ID must be
 * unique per running instance, and the id kept in the data directory is claimed with a host+pid
 * lock (a second live process on the same directory gets a one-off id instead). Within one process,
 * identities that are still in use (two services, two test platforms) are never "previous".
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ID_FILE = 'instance-id';
const LOCK_FILE = 'instance-id.lock';
const ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Matches every owner this instance ever recorded (any incarnation): a query filter for leases. */
export const ownersOfInstance = (instanceId: string): RegExp => new RegExp(`^${instanceId.replace(/\./g, '\\.')}#`);

/** Owners of identities not yet released in this process. */
const live = new Set<string>();

export interface WorkerIdentity {
  readonly instanceId: string;
  /** What leases record: `<instanceId>#<incarnation>`. */
  readonly owner: string;
  /** True when `owner` was written by an earlier, finished run of this instance. */
  isPreviousSelf(owner: string | null | undefined): boolean;
  /** This identity's work has stopped (service stop): a later identity may take its leases back. */
  release(): void;
}

export function workerIdentity(config: { readonly instanceId?: string | undefined; readonly dataDir: string }): WorkerIdentity {
  const instanceId = config.instanceId ?? persistedId(config.dataDir) ?? `once-${randomUUID()}`;
  const owner = `${instanceId}#${randomUUID()}`;
  live.add(owner);
  const prefix = `${instanceId}#`;
  return {
    instanceId,
    owner,
    isPreviousSelf: (other) => typeof other === 'string' && other.startsWith(prefix) && !live.has(other),
    release: () => void live.delete(owner),
  };
}

/** The id kept in the data directory, created on first use; null when another live process holds it. */
function persistedId(dataDir: string): string | null {
  fs.mkdirSync(dataDir, { recursive: true });
  if (!claimLock(path.join(dataDir, LOCK_FILE))) return null;
  const file = path.join(dataDir, ID_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (ID.test(existing)) return existing;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomUUID();
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, id);
  fs.renameSync(tmp, file);
  return id;
}

/**
 * Takes the lock (`<hostname> <pid>`) unless another live process holds it. A lock written on
 * another host (a second container sharing the volume) is never taken over: its pid means nothing
 * here, so that process gets a one-off id (set FOLIO_INSTANCE_ID in such setups).
 */
function claimLock(lock: string): boolean {
  const me = `${os.hostname()} ${process.pid}`;
  try {
    const [host, pidText] = fs.readFileSync(lock, 'utf8').trim().split(' ');
    const pid = Number.parseInt(pidText ?? '', 10);
    if (host !== os.hostname()) return false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.writeFileSync(lock, me);
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
