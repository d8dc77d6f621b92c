import type { Context } from 'koa';
import Router from '@koa/router';
import type { Scope } from '../../config/schema.js';
import type { Group, Spread } from './group.js';
import { compileBody, compileQuery, type Query } from './validation.js';
import { requireScope, type ApiState } from './server.js';

export type Method = 'get' | 'post' | 'patch' | 'delete';

/** What a route takes and answers: the router serves it and /openapi.json describes it from the same object. */
export interface RouteSpec {
  method: Method;
  /** Koa style: `/v1/consumers/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** The scope a token needs; routes without one are open (health, metrics, the API description). */
  scope?: Scope;
  /** JSON Schema properties of the query string. */
  query?: Record<string, unknown>;
  /** JSON Schema of the body. */
  body?: Record<string, unknown>;
  /** Status of a successful answer. */
  status: number;
  /** JSON Schema of a successful answer's body (answer-schemas.ts); null when it has none (204). */
  response: Record<string, unknown> | null;
  /** Statuses of coded errors the route can answer with besides 400, 401, 403 and 413 (see `errorStatuses`). */
  errors?: number[];
  /** Answers other than success that are not errors, with their body: readiness answers 503 with its checks. */
  otherAnswers?: Record<number, { description: string; schema: Record<string, unknown> }>;
  /** Answered with `text/plain` instead of JSON. */
  text?: boolean;
}

/** The statuses of `{code, message, details}` errors a route may answer with, 5xx aside. */
export function errorStatuses(spec: RouteSpec): number[] {
  return [
    ...(spec.query || spec.body ? [400] : []),
    ...(spec.scope ? [401, 403] : []),
    ...(spec.body ? [413] : []),
    ...(spec.errors ?? []),
  ].sort((a, b) => a - b);
}

export interface RouteInput<Q, B> {
  query: Q;
  body: B;
  params: Record<string, string>;
}

/**
 * The API's routes in one table: each is registered on the router with its scope check and
 * its query and body validators, and kept so /openapi.json can describe exactly what is served.
 */
export class RouteTable {
  readonly router = new Router<ApiState>();
  readonly specs: RouteSpec[] = [];

  /** `group`: where routes added with `addShared` answer for every live instance; without it, for this one. */
  constructor(private readonly group?: Group) {}

  /**
   * A route that answers for the whole group (group.ts): `local` runs on this instance's store,
   * for its own requests and for the other instances' questions; `spread` says how the answers
   * of the instances combine. A list's `local` answers a page with the key of each record.
   */
  addShared<Q = Query, B = undefined>(
    spec: RouteSpec,
    spread: Spread,
    local: (input: RouteInput<Q, B>) => Promise<unknown>,
  ): void {
    const group = this.group;
    const route = `${spec.method} ${spec.path}`;
    if (group === undefined) {
      this.add<Q, B>(spec, async (input) => {
        const result = (await local(input)) as Record<string, unknown>;
        return spread.kind === 'list' ? { data: result.data, nextCursor: result.nextCursor } : result;
      });
      return;
    }
    group.register(route, local as (input: RouteInput<unknown, unknown>) => Promise<unknown>);
    this.add<Q, B>(spec, (input, ctx) => group.run(route, spread, input as RouteInput<unknown, unknown>, ctx));
  }

  add<Q = Query, B = undefined>(spec: RouteSpec, handler: (input: RouteInput<Q, B>, ctx: Context) => unknown): void {
    this.specs.push(spec);
    const readQuery = compileQuery<Q & object>(spec.query ?? {});
    const readBody = spec.body ? compileBody<B>(spec.body) : undefined;
    const guard = spec.scope ? [requireScope(spec.scope)] : [];
    this.router[spec.method](spec.path, ...guard, async (ctx) => {
      const query = readQuery(ctx.query) as Q;
      const body = (readBody ? await readBody(ctx.req) : undefined) as B;
      const result = await handler({ query, body, params: ctx.params }, ctx);
      // A handler that sets its own answer (readiness, metrics) keeps it.
      if (result !== undefined) {
        ctx.status = spec.status;
        ctx.body = result;
      } else if (ctx.body === undefined) {
        ctx.status = spec.status;
      }
    });
  }
}
