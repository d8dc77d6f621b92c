import { healthSchema, readinessSchema } from '../answer-schemas.js';
import type { RouteTable } from '../route-table.js';

/** Liveness always answers; readiness answers 503 until NATS and the store are up, and while draining. */
export function healthRoutes(
  routes: RouteTable,
  /**
   * `problems` says, for each check that fails, why; `details`, what is worth knowing all the same;
   * `instances`, who is in the group.
   */
  readiness: () => {
    ready: boolean;
    checks: Record<string, boolean>;
    problems: Record<string, string>;
    details: Record<string, string>;
    instances: { self: string; live: string[] };
  },
): void {
  routes.add(
    {
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      summary: 'Liveness: the process answers',
      status: 200,
      response: healthSchema,
    },
    () => ({ status: 'ok' }),
  );
  routes.add(
    {
      method: 'get',
      path: '/readyz',
      tag: 'operations',
      summary:
        'Readiness: NATS connected, store open and writable, not draining; what is wrong otherwise; the live instances',
      status: 200,
      response: readinessSchema,
      otherAnswers: { 503: { description: 'Not ready: `problems` says why', schema: readinessSchema } },
    },
    (_input, ctx) => {
      const { ready, checks, problems, details, instances } = readiness();
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'not ready', checks, problems, details, instances };
    },
  );
}
