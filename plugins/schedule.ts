import type { FromSchema } from 'json-schema-to-ts';
import { duration, type SchemaTypeOptions } from '../config/schema.js';
import type { FailedAttempt, PluginDefinition, RetryPolicy } from './contract.js';

/**
 * The retry policy, whole: the schedule, its jitter, Retry-After, the overload floor and 410.
 * Entry n of a schedule is the delay before attempt n+1, so the first entry is the delay of
 * the first attempt ("0s": immediately). Each delay is spread by ±jitter so that many
 * messages failing together do not come back together.
 */

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    schedule: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: duration(),
      default: ['0s', '5s', '5m', '30m', '2h', '5h', '10h', '10h'],
      description: "Delay before each attempt, the first one's included, for consumers without a `retrySchedule`.",
    },
    jitter: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'Each delay is spread by up to this fraction, up or down.',
    },
    overloadFloor: duration(
      'Least delay after a timeout or a 429, so a consumer asking to slow down gets a rest.',
      '60s',
    ),
  },
} as const;

/** The options once validated: durations in milliseconds, defaults applied. */
export type ScheduleOptions = FromSchema<typeof optionsSchema, SchemaTypeOptions>;

export function nextDelay(
  schedule: readonly number[],
  attemptsMade: number,
  jitter: number,
  random = Math.random,
): number | null {
  if (attemptsMade >= schedule.length) return null;
  const base = schedule[attemptsMade];
  return Math.round(base * (1 + jitter * (2 * random() - 1)));
}

/**
 * The delay before the next attempt, or null when the schedule is exhausted. After a failed
 * attempt, Retry-After on a 429 or 503 is honoured within [scheduled delay, 2 × scheduled
 * delay]: never earlier than the schedule, never much later than it; a timeout or a 429
 * waits at least the overload floor; a 410 Gone is final.
 */
export function retryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  failed: FailedAttempt | undefined,
  options: Pick<ScheduleOptions, 'jitter' | 'overloadFloor'>,
  now = Date.now(),
): number | null {
  if (failed?.statusCode === 410) return null;
  let delay = nextDelay(schedule, attemptsMade, options.jitter);
  if (delay === null || failed === undefined) return delay;
  const overloaded = failed.statusCode === 429 || failed.statusCode === 503;
  const asked = overloaded && failed.retryAfter !== undefined ? parseRetryAfter(failed.retryAfter, now) : undefined;
  if (asked !== undefined) delay = Math.min(Math.max(asked, delay), 2 * delay);
  if (failed.statusCode === 429 || failed.errorClass === 'timeout') delay = Math.max(delay, options.overloadFloor);
  return delay;
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when unreadable. */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its weekday and month; anything else (a negative number, say) is unreadable.
  const date = /[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The retry plugin: the consumer's `retrySchedule`, or the plugin's `schedule`, with the rest of the policy. */
export const schedulePlugin: PluginDefinition<'retry', ScheduleOptions> = {
  name: 'schedule',
  kind: 'retry',
  description:
    "Picks each attempt's time from the consumer's `retrySchedule` (or this plugin's `schedule`), " +
    'every delay spread by ±`jitter`; honours Retry-After on 429 and 503 within [delay, 2 × delay]; ' +
    'waits at least `overloadFloor` after a timeout or a 429; never retries a 410.',
  optionsSchema,
  example:
    'pipeline: [eventTypes, payloadFilter, script, standardWebhooks, ' +
    '{ use: schedule, options: { schedule: [0s, 10s, 5m, 1h], jitter: 0.1, overloadFloor: 2m } }]',
  create: (options) => ({
    forConsumer(consumer): RetryPolicy {
      const schedule = consumer.retrySchedule ?? options.schedule;
      return {
        schedule,
        nextDelay: (attemptsMade, failed) => retryDelay(schedule, attemptsMade, failed, options),
      };
    },
  }),
};
