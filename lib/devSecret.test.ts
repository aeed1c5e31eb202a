import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { withKeptDevelopmentSecret } from './devSecret.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-secret-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the kept development secret', () => {
  it('is created 0600 in the data directory on first start and reused by the next start', () => {
    const dataDir = tempDir();
    const env = { NODE_ENV: 'development', FOLIO_DATA_DIR: dataDir };
    const first = withKeptDevelopmentSecret(loadConfig(env));
    const second = withKeptDevelopmentSecret(loadConfig(env));
    expect(first.internalSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.internalSecret).toBe(first.internalSecret);
    const file = path.join(dataDir, 'internal-secret');
    expect(fs.readFileSync(file, 'utf8')).toBe(first.internalSecret);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('differs between data directories', () => {
    const a = withKeptDevelopmentSecret(loadConfig({ FOLIO_DATA_DIR: tempDir() }));
    const b = withKeptDevelopmentSecret(loadConfig({ FOLIO_DATA_DIR: tempDir() }));
    expect(a.internalSecret).not.toBe(b.internalSecret);
  });

  it('gives way to FOLIO_INTERNAL_SECRET and writes no file', () => {
    const dataDir = tempDir();
    const secret = 's'.repeat(40);
    const config = withKeptDevelopmentSecret(loadConfig({ FOLIO_DATA_DIR: dataDir, FOLIO_INTERNAL_SECRET: secret }));
    expect(config.internalSecret).toBe(secret);
    expect(fs.existsSync(path.join(dataDir, 'internal-secret'))).toBe(false);
  });

  it('is never used in production: the variable stays required', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', FOLIO_DATA_DIR: tempDir(), FOLIO_ADMIN_PASSWORD: 'x'.repeat(20), FOLIO_OPS_TOKEN: 'o'.repeat(30) })).toThrow(
      /FOLIO_INTERNAL_SECRET: required/,
    );
  });

  it('refuses a truncated kept secret, naming the file', () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'internal-secret'), 'short');
    expect(() => withKeptDevelopmentSecret(loadConfig({ FOLIO_DATA_DIR: dataDir }))).toThrow(ConfigError);
  });
});
