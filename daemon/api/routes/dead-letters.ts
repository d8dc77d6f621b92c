import type { Store } from '../../store.js';
import { compileQuery, pageQuerySchema } from '../validation.js';
import { requireScope, type ApiRouter } from '../server.js';

const deadLettersQuery = compileQuery<{ limit: number; cursor?: string; since?: string; until?: string }>(pageQuerySchema);

export function deadLetterRoutes(router: ApiRouter, store: Store): void {
  router.get('/v1/dead-letters', requireScope('read'), async (ctx) => {
    const query = deadLettersQuery(ctx.query);
    ctx.body = await store.listDeadLetters(query);
  });
}
