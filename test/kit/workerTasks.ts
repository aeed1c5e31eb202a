/** Tasks for index.test.ts: where they ran, and a MessagePort round trip. */
import { isMainThread, threadId, type MessagePort } from 'node:worker_threads';

export function whereAmI(input: { echo: string }): { echo: string; isMainThread: boolean; threadId: number } {
  return { echo: input.echo, isMainThread, threadId };
}

export async function countTo(input: { n: number; port: MessagePort }): Promise<number> {
  for (let i = 1; i <= input.n; i++) input.port.postMessage(i);
  input.port.close();
  return input.n;
}

export function fail(): never {
  throw new Error('task failed on purpose');
}

/** Posts `n` numbered messages through a paced sender, then closes its port. */
export async function pacedCount(input: { n: number; port: MessagePort }): Promise<number> {
  const { pacedSender } = await import('../../lib/workers/paced.js');
  const sender = pacedSender(input.port);
  for (let i = 1; i <= input.n; i++) sender.send(i);
  await sender.drain();
  input.port.close();
  return input.n;
}
