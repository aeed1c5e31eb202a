/**
 * A platform in its own process for the benchmarks that must not charge the load generator's work
 * to the platform (soak, CPU isolation, scale): fork an entry (bench/soakPlatform.ts,
 * bench/isolationPlatform.ts) that sends `{ type: 'ready', gateway, dataDir? }`, then talk to it
 * by typed messages; `stop` asks it to shut down and waits for the exit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PlatformChild {
  readonly gateway: string;
  readonly dataDir: string | undefined;
  /** Sends `message` and resolves with the child's next message of the same type. */
  request<T>(message: { type: string; [key: string]: unknown }): Promise<T>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Forks `bench/<entryFile>` under tsx with `execArgv` and `env` added to this process's, and waits for it to be ready. */
export async function startPlatformChild(entryFile: string, options: { execArgv?: readonly string[]; env: Record<string, string> }): Promise<PlatformChild> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), entryFile);
  const child: ChildProcess = fork(entry, [], {
    execArgv: [...(options.execArgv ?? []), '--import', 'tsx'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const died = exited.then(([code]) => {
    throw new Error(`platform child exited (${String(code)})`);
  });
  died.catch(() => undefined);
  const next = async <T>(type: string): Promise<T> => {
    for (;;) {
      const [m] = (await Promise.race([once(child, 'message'), died])) as [{ type: string } & T];
      if (m.type === type) return m;
    }
  };
  const ready = await next<{ gateway: string; dataDir?: string }>('ready');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    child.send({ type: 'stop' });
    await exited;
  };
  return {
    gateway: ready.gateway,
    dataDir: ready.dataDir,
    async request<T>(message: { type: string; [key: string]: unknown }): Promise<T> {
      const reply = next<T>(message.type);
      child.send(message);
      return reply;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
