/**
 * The browser pages (admin/: the console and GraphiQL) are built by their own package so the main
 * install stays small. `npm start` and the browser tests build them when admin/dist is missing or
 * older than its sources (adminStale).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADMIN_DIR = fileURLToPath(new URL('../admin/', import.meta.url));

export function adminBuilt(dir = ADMIN_DIR): boolean {
  return existsSync(join(dir, 'dist', 'index.html')) && existsSync(join(dir, 'dist', 'graphiql.html'));
}

/** What the build is made from: admin/src and the files beside it that change the output. */
const SOURCES = ['src', 'index.html', 'graphiql.html', 'vite.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json'];

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when a source of the build changed after admin/dist was written (or there is no build). */
export function adminStale(dir = ADMIN_DIR): boolean {
  if (!adminBuilt(dir)) return true;
  const built = Math.min(statSync(join(dir, 'dist', 'index.html')).mtimeMs, statSync(join(dir, 'dist', 'graphiql.html')).mtimeMs);
  return SOURCES.some((name) => newestMtime(join(dir, name)) > built);
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: join(ADMIN_DIR, '..'), stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`npm ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`))));
  });
}

/** Installs admin/'s packages (from its lockfile) if needed, then builds admin/dist. */
export async function buildAdmin(timeoutMs = 15 * 60_000): Promise<void> {
  if (!existsSync(join(ADMIN_DIR, 'node_modules'))) await run(['ci', '--prefix', 'admin', '--no-audit', '--no-fund', '--loglevel=error'], timeoutMs);
  const started = new Date();
  await run(['run', 'build', '--prefix', 'admin'], timeoutMs);
  // Dated when the build began: a source saved while it ran is newer, so the next check rebuilds.
  for (const page of ['index.html', 'graphiql.html']) utimesSync(join(ADMIN_DIR, 'dist', page), started, started);
}

const LOCK = join(ADMIN_DIR, '.build-lock');

/**
 * Builds the pages only when they are missing or stale (adminStale); returns whether this call built them. Test files run
 * in parallel, so one build at a time: the others wait for its lock (a directory, created
 * atomically; one older than the timeout is a dead build's and is taken over).
 */
export async function ensureAdminBuild(timeoutMs = 15 * 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!adminStale()) return false;
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > timeoutMs) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error('timed out waiting for another build of admin/', { cause: error });
      else await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    if (!adminStale()) return false;
    await buildAdmin(timeoutMs);
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
