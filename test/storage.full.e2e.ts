/**
 * A full disk under the whole platform, through the gateway: writes answer STORAGE_FULL, a write
 * that failed is never visible (profile bio, shelf count, a unique username), readiness turns
 * not-ready, and when space returns writes succeed without a restart — and a restart afterwards
 * shows exactly the acknowledged writes. Once with a fake disk behind the journal (always), once
 * on a real 8 MB tmpfs filled to the last byte (only where mounting is permitted, i.e. as root).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';
import { databaseName } from '../lib/service.js';
import { openEmbeddedStorage } from '../lib/storage/embedded/index.js';
import { FakeDisk } from './kit/fakeDisk.js';
import { login, registerEditor, registerUser, REGISTER } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { eventually, graphql, mustQuery, startTestPlatform, tempDataDir, type TestPlatform } from './kit/platform.js';
import { ADD_TO_SHELF } from './kit/ugc.js';

const UPDATE_BIO = /* GraphQL */ `mutation($bio: String) { updateProfile(input: { bio: $bio }) { bio } }`;
const ME = /* GraphQL */ `{ me { bio shelf { totalCount } } }`;

const readyz = async (platform: TestPlatform, name: SubgraphName): Promise<{ status: number; body: { checks?: { storage?: string } } }> => {
  const response = await fetch(platform.services[name]!.url.replace(/\/graphql$/, '/readyz'));
  return { status: response.status, body: (await response.json()) as { checks?: { storage?: string } } };
};

const me = async (platform: TestPlatform, token: string): Promise<{ bio: string | null; shelf: { totalCount: number } }> =>
  (await mustQuery<{ me: { bio: string | null; shelf: { totalCount: number } } }>(platform.gateway, ME, {}, { token })).me;

describe('a full disk under the platform (fake disk behind the journal)', () => {
  const dataDir = tempDataDir();
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses writes with STORAGE_FULL, shows none of them, reports not-ready, and recovers without a restart', async () => {
    const disk = new FakeDisk();
    // The platform opens the same directories in this process, so it shares these engines and
    // their fake disk (see test/kit/fakeDisk.ts).
    const held = openEmbeddedStorage(dataDir, { io: disk });
    for (const name of SUBGRAPH_NAMES) held.db(databaseName(name));
    let platform = await startTestPlatform({ dataDir, keepData: true });
    let reader: Awaited<ReturnType<typeof registerUser>>;
    try {
      const editor = await registerEditor(platform.gateway);
      const { bookId } = await createPublishedBook(platform.gateway, editor.token);
      reader = await registerUser(platform.gateway);
      await mustQuery(platform.gateway, UPDATE_BIO, { bio: 'before' }, { token: reader.token });

      disk.fill();
      const bio = await graphql(platform.gateway, UPDATE_BIO, { bio: 'phantom' }, { token: reader.token });
      expect(bio.errors?.[0]?.extensions).toMatchObject({ code: 'STORAGE_FULL', retryAfterSeconds: 30 });
      expect(bio.errors?.[0]?.message).toMatch(/storage is full/i);
      const shelf = await graphql(platform.gateway, ADD_TO_SHELF, { bookId }, { token: reader.token });
      expect(shelf.errors?.[0]?.extensions?.code).toBe('STORAGE_FULL');
      const taken = await graphql(platform.gateway, REGISTER, { input: { username: 'late_comer', password: 'a long password 1', displayName: 'L' } });
      expect(taken.errors?.[0]?.extensions?.code).toBe('STORAGE_FULL');
      // The failed writes are not visible: not the bio, not the shelf entry.
      expect(await me(platform, reader.token)).toEqual({ bio: 'before', shelf: { totalCount: 0 } });
      for (const name of ['accounts', 'ugc'] as const) {
        const ready = await readyz(platform, name);
        expect(ready.status, name).toBe(503);
        expect(ready.body.checks?.storage, name).toBe('not-writable: OutOfDiskSpace');
      }

      disk.makeRoom();
      await eventually(async () => (await readyz(platform, 'accounts')).status === 200 && (await readyz(platform, 'ugc')).status === 200);
      await mustQuery(platform.gateway, UPDATE_BIO, { bio: 'after' }, { token: reader.token });
      await mustQuery(platform.gateway, ADD_TO_SHELF, { bookId }, { token: reader.token });
      // The failed registration left no unique-index entry behind: the name is free.
      await mustQuery(platform.gateway, REGISTER, { input: { username: 'late_comer', password: 'a long password 1', displayName: 'L' } });
      expect(await me(platform, reader.token)).toEqual({ bio: 'after', shelf: { totalCount: 1 } });
    } finally {
      await platform.stop();
      await held.close();
    }

    // A restart on the real disk loads exactly what was acknowledged.
    platform = await startTestPlatform({ dataDir, keepData: true });
    try {
      expect(await me(platform, reader.token)).toEqual({ bio: 'after', shelf: { totalCount: 1 } });
      expect(await login(platform.gateway, 'late_comer', 'a long password 1')).toBeTruthy();
    } finally {
      await platform.stop();
    }
  }, 120_000);
});

/** Mounts an 8 MB tmpfs, or returns null where that is not permitted (not root, no mount). */
function mountSmallTmpfs(): string | null {
  const dir = tempDataDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const tmpfs = process.platform === 'linux' ? mountSmallTmpfs() : null;

describe.skipIf(!tmpfs)('a full disk under the platform (a real 8 MB tmpfs)', () => {
  afterAll(() => {
    execFileSync('umount', [tmpfs!], { stdio: 'ignore' });
    fs.rmSync(tmpfs!, { recursive: true, force: true });
  });

  it('answers STORAGE_FULL on a truly full filesystem and writes again once a file is deleted', async () => {
    const platform = await startTestPlatform({ dataDir: tmpfs!, keepData: true });
    try {
      const reader = await registerUser(platform.gateway);
      await mustQuery(platform.gateway, UPDATE_BIO, { bio: 'before' }, { token: reader.token });
      // Fill every remaining byte with a ballast file.
      const ballast = path.join(tmpfs!, 'ballast');
      const fd = fs.openSync(ballast, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        for (;;) {
          try {
            fs.writeSync(fd, chunk, 0, 1);
          } catch {
            break;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      const bio = await graphql(platform.gateway, UPDATE_BIO, { bio: 'x'.repeat(2000) }, { token: reader.token });
      expect(bio.errors?.[0]?.extensions?.code).toBe('STORAGE_FULL');
      expect((await me(platform, reader.token)).bio).toBe('before');
      expect((await readyz(platform, 'accounts')).status).toBe(503);

      fs.rmSync(ballast);
      await eventually(async () => (await readyz(platform, 'accounts')).status === 200);
      await mustQuery(platform.gateway, UPDATE_BIO, { bio: 'after' }, { token: reader.token });
      expect((await me(platform, reader.token)).bio).toBe('after');
    } finally {
      await platform.stop();
    }
  }, 60_000);
});
