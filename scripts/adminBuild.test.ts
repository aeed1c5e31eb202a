import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../test/kit/tempDir.js';
import { adminBuilt, adminStale } from './adminBuild.js';

describe('adminStale: npm start rebuilds admin/dist when its sources are newer', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  function admin(): { dir: string; at: (file: string, seconds: number) => void } {
    const dir = tempDataDir();
    dirs.push(dir);
    mkdirSync(join(dir, 'src', 'pages'), { recursive: true });
    mkdirSync(join(dir, 'dist'), { recursive: true });
    const at = (file: string, seconds: number): void => {
      writeFileSync(join(dir, file), 'x');
      utimesSync(join(dir, file), seconds, seconds);
    };
    at('src/App.tsx', 1_000);
    at('src/pages/People.tsx', 1_000);
    at('index.html', 1_000);
    for (const d of ['src/pages', 'src']) utimesSync(join(dir, d), 1_000, 1_000);
    return { dir, at };
  }

  it('is stale without a build, fresh after one, stale again when a source (however deep) changes', () => {
    const { dir, at } = admin();
    expect(adminBuilt(dir)).toBe(false);
    expect(adminStale(dir)).toBe(true);
    at('dist/index.html', 2_000);
    at('dist/graphiql.html', 2_000);
    expect(adminBuilt(dir)).toBe(true);
    expect(adminStale(dir)).toBe(false);
    at('src/pages/People.tsx', 3_000);
    expect(adminStale(dir)).toBe(true);
  });

  it('counts a page without its pair, the HTML entry points and the lockfile as sources', () => {
    const { dir, at } = admin();
    at('dist/index.html', 2_000);
    expect(adminStale(dir)).toBe(true); // graphiql.html missing: no build
    at('dist/graphiql.html', 2_000);
    at('package-lock.json', 2_500);
    expect(adminStale(dir)).toBe(true);
    at('dist/index.html', 3_000);
    at('dist/graphiql.html', 3_000);
    expect(adminStale(dir)).toBe(false);
    at('index.html', 4_000);
    expect(adminStale(dir)).toBe(true);
  });
});
