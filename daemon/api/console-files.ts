import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import { HooksdError } from '../common/errors.js';

/** Where the console lives: `/ui`, its client-side routes under it, its files under `/ui/assets/`. */
export const CONSOLE_PATH = '/ui';
const ASSETS = `${CONSOLE_PATH}/assets/`;

/**
 * What every answer under /ui carries: scripts, styles, images and API calls only from this
 * origin (no inline script or style), never framed, nothing sniffed, no referrer sent.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
}

/** The built console: index.html and the files of assets/ (names carry a content hash), read once. */
function readConsole(dir: string): { index: Buffer; assets: Map<string, ConsoleFile> } | undefined {
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const assets = new Map<string, ConsoleFile>();
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = TYPES[path.extname(name)];
      if (type !== undefined) assets.set(name, { body: readFileSync(path.join(assetDir, name)), type });
    }
  }
  return { index: readFileSync(indexFile), assets };
}

/**
 * Serves the operator's console from `dir` (dist/ui, made by `npm run build`): index.html for
 * /ui and every path under it that is not an asset (the console routes in the browser), with
 * no-cache so a new version shows at once; assets with a year's cache, as their names change
 * with their content. The console talks to the API like any client, with a bearer token: these
 * files need none. Other paths go on to the API.
 */
export function consoleFiles(dir: string): Koa.Middleware {
  let loaded: ReturnType<typeof readConsole>;
  return async (ctx, next) => {
    if (ctx.path !== CONSOLE_PATH && !ctx.path.startsWith(`${CONSOLE_PATH}/`)) return next();
    ctx.set(SECURITY_HEADERS);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new HooksdError('HOOKSD_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path} (allowed: GET)`);
    }
    loaded ??= readConsole(dir);
    if (loaded === undefined)
      throw new HooksdError('HOOKSD_CONSOLE_MISSING', 'the console is not built: run `npm run build`');
    if (ctx.path.startsWith(ASSETS)) {
      const file = loaded.assets.get(ctx.path.slice(ASSETS.length));
      if (file === undefined) throw new HooksdError('HOOKSD_ROUTE_NOT_FOUND', `no console file ${ctx.path}`);
      ctx.set('cache-control', 'public, max-age=31536000, immutable');
      ctx.type = file.type;
      ctx.body = file.body;
      return;
    }
    ctx.set('cache-control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = loaded.index;
  };
}

/**
 * The folder of the built console: dist/ui beside the compiled daemon (dist/daemon/api/ →
 * dist/ui), or, when the sources run as they are (the tests), the repository's dist/ui.
 */
export function builtConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.resolve(here, '..', '..', 'ui');
  return existsSync(path.join(beside, 'index.html')) ? beside : path.resolve(here, '..', '..', 'dist', 'ui');
}
