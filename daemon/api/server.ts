import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router, { type RouterMiddleware } from '@koa/router';
import type { Logger } from 'pino';
import type { Scope, TokenConfig } from '../../config/schema.js';
import { HooksdError } from '../common/errors.js';
import { answerLikeTheApi } from './client-errors.js';
import { listenAddress } from './listen-address.js';

export interface ApiState {
  scopes?: readonly Scope[];
  /** The name of the token the request came with (`server.auth.tokens[].name`), for the audit log. */
  tokenName?: string;
}
export type ApiRouter = Router<ApiState>;

/** 5xx errors whose message is for the client: what it names (an instance, a tag) is no secret of the server's. */
const SHOWN_UNAVAILABLE: ReadonlySet<string> = new Set(['HOOKSD_OWNER_UNAVAILABLE']);

/** Renders every error as `{code, message, details}`; messages of other 5xx errors stay in the log. */
function errors(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allowed = ctx.response.get('Allow');
        throw new HooksdError(
          'HOOKSD_METHOD_NOT_ALLOWED',
          `${ctx.method} is not allowed on ${ctx.path} (allowed: ${allowed})`,
        );
      }
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HooksdError('HOOKSD_ROUTE_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const coded = error instanceof HooksdError ? error : undefined;
      const status = coded?.status ?? 500;
      if (status >= 500 && !SHOWN_UNAVAILABLE.has(coded?.code ?? ''))
        log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = status;
      ctx.body =
        coded && (status < 500 || SHOWN_UNAVAILABLE.has(coded.code))
          ? { code: coded.code, message: coded.message, details: coded.details ?? null }
          : { code: coded?.code ?? 'HOOKSD_INTERNAL', message: 'internal error', details: null };
    }
  };
}

/** `Server-Timing: app;dur=<ms>` on every answer: the time hooksd spent on the request, without the network's. */
function serverTiming(): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.set('server-timing', `app;dur=${(performance.now() - started).toFixed(1)}`);
    }
  };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The audit trail: one log line per request that may change something (not a read), with the
 * route, the token's name and the answer's status; never the body, which may hold a secret.
 */
function audit(log: Logger): Koa.Middleware<ApiState> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (!READS.has(ctx.method)) {
        const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? ctx.path;
        const by = ctx.state.tokenName ?? (ctx.state.scopes === undefined ? 'no valid token' : 'no token needed');
        log.info({ method: ctx.method, route, path: ctx.path, by, status: ctx.status }, 'api change');
      }
    }
  };
}

/** Compares bearer tokens by their SHA-256 digests in constant time. */
function authenticate(tokens: readonly TokenConfig[]): Koa.Middleware<ApiState> {
  const digests = tokens.map((t) => ({
    digest: createHash('sha256').update(t.token).digest(),
    scopes: t.scopes,
    name: t.name,
  }));
  return async (ctx, next) => {
    if (digests.length > 0) {
      const match = /^Bearer (.+)$/i.exec(ctx.get('authorization'));
      const presented = match ? createHash('sha256').update(match[1]).digest() : undefined;
      const found = presented && digests.find((d) => timingSafeEqual(d.digest, presented));
      ctx.state.scopes = found ? found.scopes : undefined;
      ctx.state.tokenName = found ? found.name : undefined;
    } else {
      ctx.state.scopes = ['read', 'admin', 'publish'];
    }
    await next();
  };
}

/** Route middleware: the request needs a token with `scope`. */
export function requireScope(scope: Scope): RouterMiddleware<ApiState> {
  return async (ctx, next) => {
    if (ctx.state.scopes === undefined)
      throw new HooksdError('HOOKSD_UNAUTHORIZED', 'a valid "Authorization: Bearer <token>" header is required');
    if (!ctx.state.scopes.includes(scope))
      throw new HooksdError('HOOKSD_FORBIDDEN', `this token lacks the "${scope}" scope`);
    await next();
  };
}

export interface ApiServer {
  readonly app: Koa<ApiState>;
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The Koa app with its routes, built without listening so tests can drive it in-process.
 * With no tokens configured, it only listens on loopback, whatever server.listen says.
 */
export function buildApiServer(options: {
  listen: string;
  tokens: readonly TokenConfig[];
  router: ApiRouter;
  log: Logger;
  /** Pages served beside the API without a token (the console at /ui); they call the API with one. */
  pages?: Koa.Middleware;
}): ApiServer {
  const app = new Koa<ApiState>();
  // What Koa reports outside the middleware: a streamed answer that broke. A client leaving a
  // stream (the live attempts, when a console tab closes) is no error; anything else is logged,
  // as JSON like every other line, instead of Koa's stack trace on stderr.
  app.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') options.log.error({ err: error }, 'answer failed');
  });
  app.use(serverTiming());
  // Outside the error middleware, so that it logs the status that one gave.
  app.use(audit(options.log));
  app.use(errors(options.log));
  if (options.pages) app.use(options.pages);
  app.use(authenticate(options.tokens));
  app.use(options.router.routes());
  app.use(options.router.allowedMethods());
  let server: http.Server | undefined;
  return {
    app,
    async start() {
      const { host, port, requested } = listenAddress(options.listen, options.tokens);
      if (host !== requested)
        options.log.warn({ requested, host }, 'no server.auth.tokens configured: the API listens on loopback only');
      server = http.createServer(app.callback());
      answerLikeTheApi(server);
      server.keepAliveTimeout = 5000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shown}:${address.port}`;
    },
    async stop() {
      if (!server) return;
      const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
      server.closeIdleConnections();
      await closing;
    },
  };
}
