import { list, shape, time, type Schema } from './answer-schemas.js';

/** Schemas of the answers the console's overview and consumer pages read: operational events and delivery stats. */

export const opsEventSchema = shape('OpsEvent', 'An operational event hooksd published (also on hooksd.ops.<type>).', {
  type: {
    enum: ['consumer.disabled', 'consumer.enabled', 'message.failure'],
    description: 'What happened.',
  },
  at: time('When it was published.'),
  payload: {
    type: 'object',
    additionalProperties: true,
    description:
      'What it is about, as published: `consumerId`, and `reason` and `failingSince` (consumer.disabled), or ' +
      '`messageId`, `eventId`, `eventType`, `attempts`, `lastStatusCode` and `lastError` (message.failure). ' +
      'Never a secret.',
  },
});

export const opsEventListSchema: Schema = shape('OpsEventList', 'Recent operational events, newest first.', {
  data: list(opsEventSchema, 'The events, newest first.'),
});

const count = (description: string): Schema => ({ type: 'integer', minimum: 0, description });
const msOrNull = (description: string): Schema => ({ type: ['number', 'null'], description });
const latencyNote = 'from a log-scale histogram: within 10 % of the true value';

export const deliveryErrorSchema = shape('DeliveryError', "A consumer's last failed attempt.", {
  at: time('When the attempt started.'),
  messageId: { type: 'string', description: 'The message it was an attempt of.' },
  statusCode: { type: ['integer', 'null'], description: "The answer's HTTP status; null when none came." },
  errorClass: {
    enum: ['timeout', 'connect', 'dns', 'tls', 'blocked', 'http', 'transform', null],
    description: 'What kind of failure.',
  },
  error: { type: ['string', 'null'], description: 'What failed; credentials taken out.' },
});
const lastError = {
  anyOf: [deliveryErrorSchema, { type: 'null' }],
  description: 'The most recent failed attempt in the last 24 hours, whatever the window; null when none.',
};
const totalsFields = {
  success: count('Attempts that succeeded.'),
  failure: count('Attempts that failed.'),
  successRatio: { type: ['number', 'null'], description: 'success ÷ attempts, 4 decimals; null when none.' },
  p50Ms: msOrNull(`Median attempt duration in ms, ${latencyNote}; null when none.`),
  p95Ms: msOrNull(`95th percentile of attempt durations in ms; null when none.`),
  perMinute: { type: 'number', description: 'Attempts per minute, from `from` to now, 2 decimals.' },
};
const pending = count(
  'Messages of the consumer waiting for an attempt (status sending or attempting): pending retries included.',
);
const windowField = { enum: ['15m', '1h', '6h', '24h'], description: 'The window asked for.' };
const spanFields = {
  from: time('Start of the window (included), on a step boundary.'),
  to: time('End of the window (excluded): the end of the running step.'),
};

export const deliveryStepSchema = shape('DeliveryStep', 'Attempts of one step.', {
  at: time("The step's start."),
  success: count('Attempts that succeeded.'),
  failure: count('Attempts that failed.'),
  p50Ms: msOrNull('Median attempt duration in ms; null when the step had none.'),
  p95Ms: msOrNull('95th percentile of attempt durations in ms; null when the step had none.'),
});

export const consumerStatsSchema = shape('ConsumerStats', "A consumer's attempts over a window, step by step.", {
  consumerId: { type: 'string', description: 'The consumer.' },
  window: windowField,
  step: { enum: ['1m', '5m', '15m', '1h'], description: 'The step asked for.' },
  ...spanFields,
  steps: list(deliveryStepSchema, 'Each step of the window, oldest first; the last one is still running.'),
  totals: shape('DeliveryTotals', 'Attempts over the whole window.', totalsFields),
  lastError,
  pending,
});

export const consumerSummarySchema = shape('ConsumerSummary', "A consumer's attempts over the window.", {
  consumerId: { type: 'string', description: 'The consumer.' },
  ...totalsFields,
  lastError,
  pending,
});

export const statsOverviewSchema = shape('StatsOverview', "Every consumer's attempts over a window.", {
  window: windowField,
  from: time('Start of the window (included), on a minute.'),
  to: time('End of the window (excluded): the end of the running minute.'),
  consumers: list(consumerSummarySchema, 'Each consumer, by id.'),
});
