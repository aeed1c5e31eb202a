/** `npm start` as a user runs it: a separate process, outside NODE_ENV=test, stopped by a signal. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from './kit/tempDir.js';

describe('the launcher (scripts/start.ts)', () => {
  // Apollo Server installs its own SIGINT/SIGTERM handlers outside NODE_ENV=test; five of them
  // racing the launcher's stop kept the process alive until its 15 s timer exited with code 1.
  // One signal is enough: SIGINT (Ctrl-C) takes the same path.
  for (const signal of ['SIGTERM'] as const) {
    it(`prints the gateway URL, then on ${signal} stops cleanly within seconds (exit 0)`, async () => {
      const dataDir = tempDataDir();
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        env: {
          ...process.env,
          NODE_ENV: 'development',
          FOLIO_GATEWAY_PORT: '0',
          FOLIO_SUBGRAPH_BASE_PORT: '0',
          FOLIO_DATA_DIR: dataDir,
          FOLIO_DEMO_DATA: 'false',
          FOLIO_PASSWORD_SCRYPT_LOG_N: '12',
          FOLIO_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let output = '';
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            const match = /GraphQL gateway: (http:\/\/\S+\/graphql)/.exec(output);
            if (match) resolve(match[1]!);
          });
          child.once('exit', (code) => reject(new Error(`exited early (${code}): ${output.slice(-2000)}`)));
        });
        const ready = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
        expect(await ready.json()).toEqual({ data: { __typename: 'Query' } });

        const stoppedAt = Date.now();
        const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill(signal);
        expect(await exit).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(8_000);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 60_000);
  }

  for (const variable of ['FOLIO_GATEWAY_PORT', 'FOLIO_SUBGRAPH_BASE_PORT'] as const) {
    it(`names a taken port and ${variable} in one line and exits 1, with no stack trace`, async () => {
      const dataDir = tempDataDir();
      const squatter = net.createServer();
      const port = await new Promise<number>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as net.AddressInfo).port)));
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
          env: {
            ...process.env,
            NODE_ENV: 'development',
            FOLIO_HOST: '127.0.0.1',
            FOLIO_GATEWAY_PORT: '0',
            FOLIO_SUBGRAPH_BASE_PORT: '0',
            [variable]: String(port),
            FOLIO_DATA_DIR: dataDir,
            FOLIO_DEMO_DATA: 'false',
            FOLIO_LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.resume();
        const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
        expect(code).toBe(1);
        expect(stderr.trim().split('\n')).toEqual([`Folio cannot start: port ${port} on 127.0.0.1 is already in use (set by ${variable}). Stop the other process or choose another port.`]);
      } finally {
        squatter.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  }
});
