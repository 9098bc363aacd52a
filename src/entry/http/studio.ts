import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../shared/package-root.js';
import type { Context, Env, Hono } from 'hono';

/** Where `npm install` / `npm start` put the built Studio (`vite build` of `src/entry/web`). */
export const defaultStudioDir = path.join(packageRoot(import.meta.url), 'dist', 'web');

/** The client-side routes of the Studio: these paths answer with its `index.html`. */
export const studioRoutes = ['/', '/signin', '/capsules', '/chat', '/trace', '/learning', '/replay', '/events', '/evals', '/approvals'];

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Everything the page loads comes from this server (no CDN); uPlot sets inline styles. */
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export interface MountStudioOptions {
  /** The built Studio folder (default `dist/web` of this checkout). */
  dir?: string;
  /**
   * On the embedded default: where the operator finds the API key of the "default" tenant, shown on
   * the sign-in page (e.g. `./data/api-key`). Omitted elsewhere.
   */
  apiKeyFile?: string;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function isStudioRoute(pathname: string): boolean {
  return studioRoutes.some((route) => pathname === route || (route !== '/' && pathname.startsWith(`${route}/`)));
}

const missingBuildPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Soma Studio is not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#8882;padding:.1em .3em;border-radius:4px}</style></head>
<body><main><h1>Soma Studio is not built</h1><p>The API is running (see <a href="/docs">/docs</a>), but the web UI has not been built in this checkout.</p>
<p><code>npm install</code> builds it, and so does <code>npm start</code> when the build is missing or stale. To build it by hand: <code>node scripts/build-web.mjs</code>.</p></main></body></html>`;

/**
 * Mounts Soma Studio (SPEC §13.5) on `app`: `GET /` and the client routes answer with the single-page
 * app's `index.html` (never cached), `GET /assets/*` serves its content-hashed files (cached for a
 * year). A missing build answers a page that says how to build it. Mount it after the API routes.
 */
export function mountStudio<E extends Env>(app: Hono<E>, { dir = defaultStudioDir, apiKeyFile }: MountStudioOptions = {}): void {
  const indexFile = path.join(dir, 'index.html');

  const page = async (c: Context<E>) => {
    let html: string;
    try {
      html = await readFile(indexFile, 'utf8');
    } catch {
      return c.html(missingBuildPage, 503, { 'cache-control': 'no-store' });
    }
    if (apiKeyFile) html = html.replace('</head>', `<meta name="soma-api-key-file" content="${escapeAttribute(apiKeyFile)}"></head>`);
    return c.html(html, 200, { 'cache-control': 'no-cache', 'content-security-policy': contentSecurityPolicy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  };

  const file = async (c: Context<E>, relative: string, cacheControl: string) => {
    const type = contentTypes[path.extname(relative).toLowerCase()];
    const target = path.join(dir, relative);
    if (!type || !target.startsWith(dir)) return c.notFound();
    try {
      if (!(await stat(target)).isFile()) return c.notFound();
      return c.body(await readFile(target), 200, { 'content-type': type, 'cache-control': cacheControl, 'x-content-type-options': 'nosniff' });
    } catch {
      return c.notFound();
    }
  };

  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) return c.notFound();
    return file(c, path.join('assets', name), 'public, max-age=31536000, immutable');
  });
  app.get('/favicon.svg', (c) => file(c, 'favicon.svg', 'public, max-age=86400'));
  app.get('*', async (c, next) => (isStudioRoute(c.req.path) ? page(c) : next()));
}
