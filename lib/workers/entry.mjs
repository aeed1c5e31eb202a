/**
 * Entry of every pool thread (lib/workers/index.ts). Plain JavaScript because a new thread may
 * not know TypeScript yet: under `tsx scripts/start.ts` or `node --import tsx` (the Docker image)
 * it inherits the parent's loader through execArgv, but under vitest or plain node it does not,
 * so it registers tsx itself before importing the task's .ts module.
 */
import { register } from 'tsx/esm/api';

register();

/** Runs `name` exported by `module` (a file URL) on `input`; what it returns goes back to the caller. */
export default async function runTask({ module, name, input }) {
  const loaded = await import(module);
  const task = loaded[name];
  if (typeof task !== 'function') throw new TypeError(`${module} exports no function named ${name}`);
  return task(input);
}
