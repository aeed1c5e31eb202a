/**
 * Child process for the crash test in lib/storage/contract.test.ts (not a test itself). Writes continuously
 * from several concurrent writers, prints each acknowledged `_id` on stdout the moment its promise
 * resolves, and SIGKILLs itself right after the ACK_COUNT-th acknowledgement, mid-stream.
 * Usage: node --import tsx test/kit/storageCrashChild.ts <dataDir> <dbName> <collection> [mongodbUri]
 */
import fs from 'node:fs';
import { openStorage } from '../../lib/storage/index.js';

const [dataDir, dbName, collName, mongodbUri] = process.argv.slice(2);
const ACK_COUNT = 150;
const WRITERS = 8;

const storage = await openStorage({ dataDir: dataDir!, mongodbUri: mongodbUri || undefined });
const coll = storage.db(dbName!).collection<{ _id: string; n: number; at: Date }>(collName!);
let acked = 0;
let seq = 0;
const writer = async (): Promise<void> => {
  for (;;) {
    const _id = `w${seq++}`;
    await coll.insertOne({ _id, n: seq, at: new Date() });
    fs.writeSync(1, `${_id}\n`); // synchronous: the parent sees it before the kill
    if (++acked === ACK_COUNT) process.kill(process.pid, 'SIGKILL');
  }
};
await Promise.all(Array.from({ length: WRITERS }, writer));
