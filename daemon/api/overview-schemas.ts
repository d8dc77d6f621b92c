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
