import { HooksdError } from '../../common/errors.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import { lastMinutes, STEPS, WINDOWS, type DeliveryStats, type StatsSpan } from '../../dispatch/delivery-stats.js';
import type { DeliveryError } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import { consumerStatsSchema, statsOverviewSchema } from '../overview-schemas.js';
import { iso } from '../present.js';
import type { RouteTable } from '../route-table.js';

type WindowName = keyof typeof WINDOWS;
type StepName = keyof typeof STEPS;
/** More steps than a day of minutes makes a chart no one reads. */
const MAX_STEPS = 1440;

const windowQuery = {
  enum: Object.keys(WINDOWS),
  default: '1h',
  description: 'How far back: 15m, 1h, 6h or 24h.',
};

const presentError = (error: DeliveryError | null) =>
  error === null
    ? null
    : {
        at: iso(error.at),
        messageId: error.messageId,
        statusCode: error.statusCode,
        errorClass: error.errorClass,
        error: error.error,
      };

/**
 * Delivery stats for the console's charts and overview, read from the rolling per-minute
 * aggregate (dispatch/delivery-stats.ts), never from the messages; `pending` from the counts
 * the store keeps per consumer and status.
 */
export function statsRoutes(
  routes: RouteTable,
  deps: { stats: DeliveryStats; consumers: ConsumerRegistry; store: Store },
): void {
  const { stats, consumers, store } = deps;
  const pendingOf = (consumerId: string) =>
    store.countConsumerStatus(consumerId, 'sending') + store.countConsumerStatus(consumerId, 'attempting');
  const summary = (consumerId: string, span: StatsSpan) => ({
    ...span.totals,
    lastError: presentError(span.lastError),
    pending: pendingOf(consumerId),
  });

  routes.add<{ window: WindowName; step: StepName }>(
    {
      method: 'get',
      path: '/v1/consumers/:id/stats',
      tag: 'consumers',
      summary:
        "A consumer's attempts over a window, step by step: counts by outcome and latency percentiles, with " +
        'its last error and pending messages',
      scope: 'read',
      query: {
        window: windowQuery,
        step: {
          enum: Object.keys(STEPS),
          default: '1m',
          description: 'Length of each step: 1m, 5m, 15m or 1h; not longer than the window.',
        },
      },
      status: 200,
      response: consumerStatsSchema,
      errors: [404],
    },
    ({ params, query }) => {
      if (consumers.get(params.id) === undefined)
        throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${params.id}"`);
      const window = WINDOWS[query.window];
      const step = STEPS[query.step];
      if (step > window || window / step > MAX_STEPS) {
        const detail = `query.step: ${query.step} does not fit window ${query.window} (at most ${MAX_STEPS} steps)`;
        throw new HooksdError('HOOKSD_INVALID_REQUEST', detail, [detail]);
      }
      const span = stats.steps(params.id, window, step);
      return {
        consumerId: params.id,
        window: query.window,
        step: query.step,
        from: iso(span.from),
        to: iso(span.to),
        steps: span.steps.map((s) => ({ ...s, at: iso(s.at) })),
        totals: span.totals,
        lastError: presentError(span.lastError),
        pending: pendingOf(params.id),
      };
    },
  );

  routes.add<{ window: WindowName }>(
    {
      method: 'get',
      path: '/v1/stats',
      tag: 'consumers',
      summary: "Every consumer's attempts over a window: counts, success ratio, latency, last error, pending",
      scope: 'read',
      query: { window: windowQuery },
      status: 200,
      response: statsOverviewSchema,
    },
    ({ query }) => {
      const window = WINDOWS[query.window];
      const now = Date.now();
      const all = consumers
        .all()
        .map((consumer) => consumer.id)
        .sort();
      const { from, to } = lastMinutes(window, now);
      return {
        window: query.window,
        from: iso(from),
        to: iso(to),
        consumers: all.map((consumerId) => ({
          consumerId,
          ...summary(consumerId, stats.totals(consumerId, window, now)),
        })),
      };
    },
  );
}
