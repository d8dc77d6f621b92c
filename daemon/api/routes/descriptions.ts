import type { Metrics } from '../../common/metrics.js';
import { openApiSchema } from '../answer-schemas.js';
import { openApiDocument } from '../openapi.js';
import type { RouteTable } from '../route-table.js';

/** What describes the running gateway: its metrics and its API. */
export function descriptionRoutes(routes: RouteTable, metrics: Metrics, version: string): void {
  routes.add(
    {
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      scope: 'read',
      status: 200,
      response: { type: 'string', description: 'Prometheus text exposition format.' },
      text: true,
    },
    async (_input, ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  );
  let document: Record<string, unknown> | undefined;
  routes.add(
    {
      method: 'get',
      path: '/openapi.json',
      tag: 'operations',
      summary: 'This API described as OpenAPI 3.1',
      status: 200,
      response: openApiSchema,
    },
    () => (document ??= openApiDocument(routes.specs, version)),
  );
}
