/**
 * The development signing secret, kept in `<dataDir>/internal-secret` (mode 0600) so that signed
 * download links and identity headers stay valid across restarts of `npm start`. Production never
 * gets here: loadConfig requires FOLIO_INTERNAL_SECRET there. Several processes sharing one data
 * directory (FOLIO_SERVICES split) read the same file, so they also agree on the secret.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type FolioConfig } from './config.js';

const SECRET_FILE = 'internal-secret';

/** `config` with the kept development secret when FOLIO_INTERNAL_SECRET was not set; otherwise unchanged. */
export function withKeptDevelopmentSecret(config: FolioConfig): FolioConfig {
  if (!config.internalSecretGenerated || config.production) return config;
  return { ...config, internalSecret: keptDevelopmentSecret(config.dataDir) };
}

export function keptDevelopmentSecret(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SECRET_FILE);
  const fresh = randomBytes(32).toString('base64url');
  try {
    // 'wx': two processes starting together on one directory cannot both create it.
    fs.writeFileSync(file, fresh, { flag: 'wx', mode: 0o600 });
    return fresh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const kept = fs.readFileSync(file, 'utf8').trim();
  if (kept.length < 32) throw new ConfigError([`FOLIO_INTERNAL_SECRET: the kept development secret in ${file} is shorter than 32 characters (delete the file to get a new one)`]);
  return kept;
}
