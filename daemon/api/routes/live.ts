import { PassThrough } from 'node:stream';
import { CONSUMER_ID_PATTERN, EVENT_TYPE_PATTERN } from '../../../config/schema.js';
import type { AttemptFeed, AttemptSummary } from '../../dispatch/attempt-feed.js';
import type { RouteTable } from '../route-table.js';

/** A comment line every so often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

interface LiveQuery {
  consumerId?: string;
  eventType?: string;
  outcome?: 'success' | 'failure';
}

/**
 * `GET /v1/attempts/live`: every attempt as it is recorded, as server-sent events, one
 * `data:` line of JSON each (what `hooksd tail` reads). Returns the function that ends every
 * open stream, for shutdown: a stream never ends by itself.
 */
export function liveRoutes(routes: RouteTable, feed: Pick<AttemptFeed, 'subscribe'>): () => void {
  const open = new Set<PassThrough>();
  routes.add<LiveQuery>(
    {
      method: 'get',
      path: '/v1/attempts/live',
      tag: 'messages',
      summary: 'Every attempt as it is recorded, as server-sent events (text/event-stream, one JSON object each)',
      scope: 'read',
      query: {
        consumerId: { type: 'string', pattern: CONSUMER_ID_PATTERN, description: 'Only attempts for this consumer.' },
        eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'Only attempts of this event type.' },
        outcome: { enum: ['success', 'failure'], description: 'Only attempts that succeeded, or failed.' },
      },
      status: 200,
      response: {
        type: 'string',
        description:
          'text/event-stream: a `data:` line per attempt holding a JSON object (at, consumerId, eventType, ' +
          'eventId, messageId, trigger, attempt, of, outcome, statusCode, errorClass, error, durationMs, status, ' +
          'nextAttemptAt), and comment lines to keep the stream open.',
      },
      text: true,
    },
    ({ query }, ctx) => {
      const stream = new PassThrough();
      const wanted = (summary: AttemptSummary) =>
        (query.consumerId === undefined || summary.consumerId === query.consumerId) &&
        (query.eventType === undefined || summary.eventType === query.eventType) &&
        (query.outcome === undefined || summary.outcome === query.outcome);
      const unsubscribe = feed.subscribe((summary) => {
        if (wanted(summary)) stream.write(`data: ${JSON.stringify(summary)}\n\n`);
      });
      const keepAlive = setInterval(() => stream.write(': still here\n\n'), KEEP_ALIVE_MS);
      const close = () => {
        unsubscribe();
        clearInterval(keepAlive);
        open.delete(stream);
      };
      ctx.req.on('close', close);
      stream.on('close', close);
      open.add(stream);
      ctx.set('cache-control', 'no-store');
      ctx.type = 'text/event-stream';
      ctx.status = 200;
      ctx.body = stream;
      stream.write(': attempts as they are recorded\n\n');
    },
  );
  return () => {
    for (const stream of open) stream.end();
  };
}
