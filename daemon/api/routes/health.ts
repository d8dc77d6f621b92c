import type { ApiRouter } from '../server.js';

/** Liveness always answers; readiness answers 503 until NATS and the store are up, and while draining. */
export function healthRoutes(router: ApiRouter, readiness: () => { ready: boolean; checks: Record<string, boolean> }): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    const { ready, checks } = readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
}
