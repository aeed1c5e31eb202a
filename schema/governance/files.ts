/** Where the schema check reads and publish writes: the repo's schema/ directory (overridable for tests). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPH_NAMES } from '../../lib/config.js';
import type { Approval } from './check.js';
import type { SubgraphSdls } from './diff.js';

export const SCHEMA_DIR = path.dirname(fileURLToPath(new URL('../compose.ts', import.meta.url)));

export const publishedDir = (schemaDir: string): string => path.join(schemaDir, 'published');
export const approvalsFile = (schemaDir: string): string => path.join(schemaDir, 'approved-changes.json');
export const changelogFile = (schemaDir: string): string => path.join(schemaDir, 'CHANGELOG.md');

export function readSdls(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) {
    const file = path.join(dir, `${name}.graphql`);
    if (existsSync(file)) out[name] = readFileSync(file, 'utf8');
  }
  return out;
}

export const readProposed = (schemaDir: string): SubgraphSdls => readSdls(schemaDir);
export const readPublished = (schemaDir: string): SubgraphSdls => readSdls(publishedDir(schemaDir));

export function readApprovals(schemaDir: string): Approval[] {
  const file = approvalsFile(schemaDir);
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file} must be a JSON array of { coordinate, reason }`);
  return parsed.map((a: unknown, i) => {
    const { coordinate, reason } = (a ?? {}) as Record<string, unknown>;
    if (typeof coordinate !== 'string' || typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(`${file}[${i}] needs a string coordinate and a non-empty reason`);
    }
    return { coordinate, reason };
  });
}
