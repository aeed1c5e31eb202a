/**
 * The gateway's browser pages, built by admin/ (React + Vite) into admin/dist and read once at
 * start-up: GraphiQL for browsers at GET /graphql (instead of Apollo's landing page, which loads
 * from a CDN), and the admin console at /admin. Nothing is fetched from elsewhere at run time, and
 * every page carries a strict Content-Security-Policy.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzip } from 'node:zlib';
import { FolioError } from '../../lib/errors.js';
import { sendError } from '../../lib/http/respond.js';

/** Where `npm run build --prefix admin` writes. */
export const ADMIN_DIST = fileURLToPath(new URL('../../admin/dist/', import.meta.url));

/**
 * script-src 'self' and no inline scripts: Vite emits module scripts as files. style-src allows
 * inline styles because the editor (Monaco, in GraphiQL) and React's style props set them at run
 * time; styles cannot run code. worker-src 'self': the editor's language workers are our files.
 * connect-src 'self': the pages talk only to this gateway.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

interface File {
  readonly body: Buffer;
  readonly type: string;
  /** Gzipped once, on the first request (off the event loop), for every later one. */
  gzipped?: Buffer | 'pending';
}

// Text compresses to a quarter or less (the editor's 2.8 MB script to 0.7 MB); fonts and images are compressed already.
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg|font\/ttf)/;

export interface UiOptions {
  /** Serve GraphiQL at GET /graphql to browsers (config.gateway.graphiql). */
  readonly graphiql: boolean;
  /** @default ADMIN_DIST */
  readonly dir?: string;
}

export interface UiRoutes {
  /** Whether the build was found (pages are answered 503 without it). */
  readonly built: boolean;
  /** Answers the request and returns true if it is one of the UI's; false leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): boolean;
}

// Hashed asset names only: letters, digits, dot, dash, underscore (no separators, so no traversal).
const ASSET_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function readAssets(dir: string): Map<string, File> {
  const assets = new Map<string, File>();
  const assetDir = join(dir, 'assets');
  if (!existsSync(assetDir)) return assets;
  for (const name of readdirSync(assetDir)) {
    const path = join(assetDir, name);
    if (!ASSET_NAME.test(name) || !statSync(path).isFile()) continue;
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(path), type });
  }
  return assets;
}

function readPage(dir: string, name: string): Buffer | undefined {
  const path = join(dir, name);
  return existsSync(path) ? readFileSync(path) : undefined;
}

/** A browser navigating to /graphql, not a GraphQL GET (which carries a query or a document id). */
function wantsGraphiQL(req: IncomingMessage, search: string): boolean {
  if (!(req.headers.accept ?? '').includes('text/html')) return false;
  const params = new URLSearchParams(search);
  return !params.has('query') && !params.has('documentId') && !params.has('extensions');
}

export function createUiRoutes(options: UiOptions): UiRoutes {
  const dir = options.dir ?? ADMIN_DIST;
  const assets = readAssets(dir);
  const consolePage = readPage(dir, 'index.html');
  const graphiqlPage = readPage(dir, 'graphiql.html');
  const built = consolePage !== undefined && graphiqlPage !== undefined;
  const notBuilt = new FolioError('SERVICE_UNAVAILABLE', 'The browser pages are not built: run `npm ci --prefix admin && npm run build --prefix admin`.');

  function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function page(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void {
    if (!body) return sendError(res, notBuilt);
    // Never cached: a new build's page must name its new assets at once.
    send(req, res, 200, { ...PAGE_HEADERS, 'content-type': TYPES['.html']!, 'cache-control': 'no-store' }, body);
  }

  return {
    built,
    handle(req, res, path, search) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/graphql') {
        if (!options.graphiql || !wantsGraphiQL(req, search)) return false;
        page(req, res, graphiqlPage);
        return true;
      }
      if (path === '/admin') {
        res.writeHead(308, { location: '/admin/', 'content-length': '0' });
        res.end();
        return true;
      }
      if (!path.startsWith('/admin/')) return false;
      if (path.startsWith('/admin/assets/')) {
        const name = path.slice('/admin/assets/'.length);
        const asset = ASSET_NAME.test(name) ? assets.get(name) : undefined;
        if (!asset) {
          sendError(res, new FolioError('NOT_FOUND', 'No such asset.'));
          return true;
        }
        // Content-hashed names: a changed file is a new name, so caches may keep these for a year.
        const headers: Record<string, string> = { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'same-origin', vary: 'accept-encoding' };
        const compressible = COMPRESSIBLE.test(asset.type);
        if (compressible && asset.gzipped === undefined) {
          asset.gzipped = 'pending';
          gzip(asset.body, { level: 6 }, (error, result) => {
            asset.gzipped = error ? undefined : result;
          });
        }
        if (compressible && Buffer.isBuffer(asset.gzipped) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
          send(req, res, 200, { ...headers, 'content-encoding': 'gzip' }, asset.gzipped);
        } else {
          send(req, res, 200, headers, asset.body);
        }
        return true;
      }
      // Any other path under /admin/ is the console's (one page, routes in the browser).
      page(req, res, consolePage);
      return true;
    },
  };
}
