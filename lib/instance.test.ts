import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../test/kit/tempDir.js';
import { ownersOfInstance, workerIdentity } from './instance.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const dir = (): string => {
  const d = tempDataDir();
  dirs.push(d);
  return d;
};

describe('worker identity', () => {
  it('keeps one instance id in the data directory and recognises only finished earlier runs as its previous self', () => {
    const dataDir = dir();
    const first = workerIdentity({ dataDir });
    const concurrent = workerIdentity({ dataDir });
    expect(concurrent.instanceId).toBe(first.instanceId);
    expect(concurrent.owner).not.toBe(first.owner);
    // Both are running in this process: neither may take the other's leases.
    expect(concurrent.isPreviousSelf(first.owner)).toBe(false);
    first.release();
    const restarted = workerIdentity({ dataDir });
    expect(restarted.instanceId).toBe(first.instanceId);
    expect(restarted.isPreviousSelf(first.owner)).toBe(true);
    expect(restarted.isPreviousSelf(restarted.owner)).toBe(false);
    expect(restarted.isPreviousSelf(`other#${first.owner.split('#')[1]}`)).toBe(false);
    expect(restarted.isPreviousSelf(null)).toBe(false);
    expect(ownersOfInstance(first.instanceId).test(first.owner)).toBe(true);
    concurrent.release();
    restarted.release();
  });

  it('uses FOLIO_INSTANCE_ID when configured, and a one-off id when another live process holds the directory', () => {
    expect(workerIdentity({ dataDir: dir(), instanceId: 'pod-3' }).owner).toMatch(/^pod-3#/);
    const dataDir = dir();
    fs.writeFileSync(`${dataDir}/instance-id.lock`, `${os.hostname()} ${process.ppid}`); // a live process that is not us
    expect(workerIdentity({ dataDir }).instanceId).toMatch(/^once-/);
    fs.writeFileSync(`${dataDir}/instance-id.lock`, `another-host 1`); // another container on a shared volume
    expect(workerIdentity({ dataDir }).instanceId).toMatch(/^once-/);
    expect(fs.existsSync(`${dataDir}/instance-id`)).toBe(false);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(`${dataDir}/instance-id.lock`, `${os.hostname()} ${dead}`); // this host, process gone
    expect(workerIdentity({ dataDir }).instanceId).not.toMatch(/^once-/);
    expect(ownersOfInstance('a.b').test('axb#1')).toBe(false);
  });
});
