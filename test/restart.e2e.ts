/**
 * Durability through the real launcher: `npm start`'s entry point in a child process, stopped
 * gracefully or killed with SIGKILL right after a registration was acknowledged, then restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { LOGIN, REGISTER } from './kit/accounts.js';
import { mustQuery, tempDataDir } from './kit/platform.js';

const dataDir = tempDataDir();
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all(
      Array.from({ length: size }, (_, i) =>
        new Promise<boolean>((resolve) => {
          const server = createServer().once('error', () => resolve(false));
          server.listen(base + i, '127.0.0.1', () => server.close(() => resolve(true)));
        }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port block');
}

async function startLauncher(base: number): Promise<{ child: ChildProcess; gateway: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      FOLIO_DATA_DIR: dataDir,
      FOLIO_GATEWAY_PORT: String(base),
      FOLIO_SUBGRAPH_BASE_PORT: String(base + 1),
      FOLIO_DEMO_DATA: 'false',
      FOLIO_LOG_LEVEL: 'warn',
      FOLIO_PASSWORD_SCRYPT_LOG_N: '12',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const gateway = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`launcher did not start:\n${output}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d;
      const match = /GraphQL gateway: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`launcher exited with ${code}:\n${output}`)));
  });
  return { child, gateway };
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('restarting `npm start`', () => {
  it('keeps accounts and sessions across a graceful stop and across kill -9 right after an acknowledged registration', async () => {
    const base = await freePortBlock(5);
    const first = await startLauncher(base);
    const reg = await mustQuery(first.gateway, REGISTER, { input: { username: 'durable', password: 'survives restarts', displayName: 'D' } });
    first.child.kill('SIGTERM');
    await exited(first.child);

    const second = await startLauncher(base);
    // The session from before the restart still works, and so does the password.
    expect((await mustQuery(second.gateway, `{ me { username } }`, {}, { token: reg.register.token })).me.username).toBe('durable');
    const acked = await mustQuery(second.gateway, REGISTER, { input: { username: 'acked', password: 'written then killed', displayName: 'A' } });
    second.child.kill('SIGKILL');
    await exited(second.child);

    const third = await startLauncher(base);
    try {
      const login = await mustQuery(third.gateway, LOGIN, { username: 'acked', password: 'written then killed' });
      expect(login.login.user.id).toBe(acked.register.user.id);
      expect((await mustQuery(third.gateway, `{ me { username } }`, {}, { token: acked.register.token })).me.username).toBe('acked');
    } finally {
      third.child.kill('SIGTERM');
      await exited(third.child);
    }
  }, 240_000);
});
