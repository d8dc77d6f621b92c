import type { PageQuery } from '../../store/lists.js';
import type { Store } from '../../store/store.js';
import { pageQuerySchema } from '../validation.js';
import type { RouteTable } from '../route-table.js';

export function deadLetterRoutes(routes: RouteTable, store: Store): void {
  routes.add<PageQuery>(
    {
      method: 'get',
      path: '/v1/dead-letters',
      tag: 'events',
      summary: 'Events refused at ingest, with reasons, newest first',
      scope: 'read',
      query: pageQuerySchema,
      status: 200,
    },
    ({ query }) => store.lists.deadLetters(query),
  );
}
