/**
 * The production image holds no test code: test kits live only in test/kit/, production sources
 * never import them, and the Docker build context leaves tests, kits and benchmarks out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHIPPED = ['lib', 'gateway', 'subgraphs', 'schema', 'scripts'];

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(rel);
    return /\.(ts|mjs)$/.test(entry.name) && !/\.(test|e2e)\.ts$/.test(entry.name) ? [rel] : [];
  });
}

describe('the production image', () => {
  it('ships no source that imports test code', () => {
    const offenders = SHIPPED.flatMap(sources).filter((file) => {
      const text = readFileSync(path.join(root, file), 'utf8');
      return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)].some(([, spec]) => spec!.startsWith('.') && path.normalize(path.join(path.dirname(file), spec!)).startsWith(`test${path.sep}`));
    });
    expect(offenders).toEqual([]);
  });

  it('keeps test kits in test/kit only', () => {
    const kits = SHIPPED.flatMap(sources).filter((file) => /(testkit|testing|fixtures?|fakes?|crash-child)\.ts$/i.test(file));
    expect(kits).toEqual([]);
  });

  it('leaves tests, kits and benchmarks out of the Docker build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['test', 'bench', '**/*.test.ts', '**/*.e2e.ts', 'node_modules', '.folio-data']));
  });
});
