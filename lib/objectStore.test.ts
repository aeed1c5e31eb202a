import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryObjectStore, validateObjectKey } from './objectStore.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'folio-objects-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('DirectoryObjectStore', () => {
  it('stores, overwrites, reads and deletes bytes by key', async () => {
    const store = new DirectoryObjectStore(dir);
    expect(await store.get('a/b.bin')).toBeNull();
    await store.put('a/b.bin', Buffer.from('one'));
    await store.put('a/b.bin', Buffer.from('two'));
    expect((await store.get('a/b.bin'))?.toString()).toBe('two');
    await store.delete('a/b.bin');
    await store.delete('a/b.bin');
    expect(await store.get('a/b.bin')).toBeNull();
  });

  it('refuses keys that could escape its directory', async () => {
    for (const key of ['../x', '/etc/passwd', 'a/../../x', '', 'a//b', 'a/.']) expect(() => validateObjectKey(key)).toThrow(RangeError);
    await expect(new DirectoryObjectStore(dir).get('../../etc/passwd')).rejects.toThrow(RangeError);
  });
});
