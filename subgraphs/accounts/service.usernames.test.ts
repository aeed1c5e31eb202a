import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { AccountService } from './service.js';
import { openAccountsStore, type AccountsStore, type UserDoc } from './store.js';

const legacy = (id: string, vid: number, username: string): UserDoc => ({
  _id: id, vid, username, displayName: username, passwordHash: 'x', roles: ['READER'], bio: null, avatarUrl: null, createdAt: new Date(), updatedAt: new Date(),
});

describe('accounts: username skeletons for accounts from before them', () => {
  const dataDir = tempDataDir();
  let storage: Storage;
  let store: AccountsStore;
  let service: AccountService;

  beforeAll(async () => {
    storage = await openStorage({ dataDir });
    store = await openAccountsStore(storage.db('folio_accounts'));
    service = new AccountService(store, { sessionTtlMs: 60_000, scryptLogN: 10, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('backfills skeletons at start-up, oldest first, keeps clashing old names, and then refuses new look-alikes', async () => {
    // "bob1" and "bobl" share a skeleton (1 → l); both registered before skeletons existed.
    await store.users.insertMany([legacy('u1', 1001, 'cope'), legacy('u2', 1002, 'bobl'), legacy('u3', 1003, 'bob1')]);
    expect(await service.backfillUsernameSkeletons()).toEqual({ updated: 2, clashes: 1 });
    expect(await service.backfillUsernameSkeletons()).toEqual({ updated: 0, clashes: 0 });
    expect((await store.users.findOne({ _id: 'u3' }))!.usernameSkeletonClash).toBe('bobl');

    const attempt = async (username: string): Promise<string> => {
      try {
        await service.register({ username, password: 'a long enough password', displayName: 'x' }, { userAgent: null, clientAddress: '192.0.2.1' });
        return 'ok';
      } catch (error) {
        return (error as FolioError).code + ': ' + (error as FolioError).message;
      }
    };
    expect(await attempt('\u0441\u043e\u0440\u0435')).toMatch(/^CONFLICT: That username looks the same/); // Cyrillic "соре"
    expect(await attempt('BOB1')).toMatch(/^CONFLICT: That username is taken/); // the grandfathered name itself
    expect(await attempt('bob')).toBe('ok');
  });
});
