import { RECENT_OPS_EVENTS, type OpsEvents } from '../../common/ops-events.js';
import { opsEventListSchema } from '../overview-schemas.js';
import { iso } from '../present.js';
import type { RouteTable } from '../route-table.js';

/** `GET /v1/ops-events`: the operational events published since start-up, newest first, from memory. */
export function opsEventRoutes(routes: RouteTable, ops: Pick<OpsEvents, 'recent'>): void {
  routes.add<{ limit: number }>(
    {
      method: 'get',
      path: '/v1/ops-events',
      tag: 'operations',
      summary: `The most recent operational events, newest first (the last ${RECENT_OPS_EVENTS} since start-up)`,
      scope: 'read',
      query: {
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: RECENT_OPS_EVENTS,
          default: 50,
          description: `Events in the answer, at most ${RECENT_OPS_EVENTS}.`,
        },
      },
      status: 200,
      response: opsEventListSchema,
    },
    ({ query }) => ({
      data: ops.recent(query.limit).map((event) => ({ type: event.type, at: iso(event.at), payload: event.payload })),
    }),
  );
}
