import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary data directory; the caller removes it. */
export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'folio-test-'));
}
