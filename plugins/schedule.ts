import type { PluginDefinition } from './contract.js';

/**
 * The retry policy. Entry n of a schedule is the delay before attempt n+1, so the first
 * entry is the delay of the first attempt ("0s": immediately). Each delay is spread by
 * ±jitter so that many messages failing together do not come back together.
 */

export interface RetryPolicy {
  jitter: number;
  /** Least delay after a timeout or a 429, so a consumer asking to slow down gets a rest. */
  overloadFloor: number;
}

/** What the retry policy needs to know of a failed attempt. */
export interface FailedAttempt {
  statusCode?: number;
  errorClass?: string;
  /** The response's Retry-After header, when it had one. */
  retryAfter?: string;
}

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
 * The delay before the next attempt after a failed one, or null when the schedule is
 * exhausted. Retry-After on a 429 or 503 is honoured within [scheduled delay, 2 × scheduled
 * delay]: never earlier than the schedule, never much later than it. A 410 Gone is final.
 */
export function retryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  failed: FailedAttempt,
  policy: RetryPolicy,
  now = Date.now(),
): number | null {
  if (failed.statusCode === 410) return null;
  let delay = nextDelay(schedule, attemptsMade, policy.jitter);
  if (delay === null) return null;
  const overloaded = failed.statusCode === 429 || failed.statusCode === 503;
  const asked = overloaded && failed.retryAfter !== undefined ? parseRetryAfter(failed.retryAfter, now) : undefined;
  if (asked !== undefined) delay = Math.min(Math.max(asked, delay), 2 * delay);
  if (failed.statusCode === 429 || failed.errorClass === 'timeout') delay = Math.max(delay, policy.overloadFloor);
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

/** The retry plugin: the consumer's schedule (or `delivery.retrySchedule`) with the policy of `delivery`. */
export const schedulePlugin: PluginDefinition<'retry'> = {
  name: 'schedule',
  kind: 'retry',
  description:
    "Picks the next attempt's time from the consumer's `retrySchedule` (or `delivery.retrySchedule`) with `delivery.jitter`; honours Retry-After on 429 and 503 within [delay, 2 × delay]; waits at least `delivery.overloadFloor` after a timeout or a 429; never retries a 410.",
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  example: 'pipeline: [eventTypes, payloadFilter, script, standardWebhooks, schedule]',
  create: (_options, context) => ({
    nextDelay: ({ schedule, attemptsMade, failed }) => retryDelay(schedule, attemptsMade, failed, context.retryPolicy),
  }),
};
