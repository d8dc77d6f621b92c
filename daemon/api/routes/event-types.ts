import type { EventTypeConfig } from '../../../config/schema.js';
import { eventTypeSchema, pageOf } from '../answer-schemas.js';
import { pageByKey } from '../paging.js';
import type { RouteTable } from '../route-table.js';
import { pageQuerySchema } from '../validation.js';

/** The catalog as configured now: `eventTypes` answers the running config's types. */
export function eventTypeRoutes(routes: RouteTable, eventTypes: () => readonly EventTypeConfig[]): void {
  routes.add<{ limit: number; cursor?: string }>(
    {
      method: 'get',
      path: '/v1/event-types',
      tag: 'events',
      summary: 'The event catalog: each type with its payload schema and example',
      scope: 'read',
      query: { limit: pageQuerySchema.limit, cursor: pageQuerySchema.cursor },
      status: 200,
      response: pageOf(eventTypeSchema),
    },
    ({ query }) => {
      const page = pageByKey(eventTypes(), (t) => t.name, query);
      return {
        data: page.data.map((t: EventTypeConfig) => ({
          name: t.name,
          description: t.description,
          schema: t.schema ?? null,
          example: t.example ?? null,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
