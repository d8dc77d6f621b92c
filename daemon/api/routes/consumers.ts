import { HooksdError } from '../../errors.js';
import type { Consumer, ConsumerRegistry } from '../../consumers.js';
import type { ConsumerHealth } from '../../health.js';
import { compileBody } from '../validation.js';
import { requireScope, type ApiRouter } from '../server.js';

const DAY_SECONDS = 86_400;
const rotateBody = compileBody<{ graceSeconds: number }>({
  type: 'object',
  additionalProperties: false,
  properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 30 * DAY_SECONDS, default: DAY_SECONDS } },
});
const emptyBody = compileBody<Record<string, never>>({ type: 'object', additionalProperties: false, properties: {} });

/** A consumer as the API shows it: never its secrets. */
export function presentConsumer(consumer: Consumer) {
  return {
    id: consumer.id,
    url: consumer.url,
    description: consumer.description,
    source: consumer.source,
    eventTypes: consumer.eventTypes,
    disabled: consumer.disabled,
    disabledReason: consumer.disabled ? (consumer.state.disabledReason ?? 'disabled in the config') : null,
    failingSince: consumer.state.failingSince ? new Date(consumer.state.failingSince).toISOString() : null,
    headers: Object.keys(consumer.headers),
    rateLimit: consumer.rateLimit ?? null,
    concurrency: consumer.concurrency,
    timeoutMs: consumer.timeout,
    retryScheduleMs: consumer.retrySchedule,
    activeSecrets: consumer.secrets.filter((s) => s.expiresAt === null || s.expiresAt > Date.now()).length,
  };
}

export function found(consumers: ConsumerRegistry, id: string): Consumer {
  const consumer = consumers.get(id);
  if (consumer === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
  return consumer;
}

export function consumerRoutes(router: ApiRouter, consumers: ConsumerRegistry, health: ConsumerHealth): void {
  router.post('/v1/consumers/:id/enable', requireScope('admin'), async (ctx) => {
    found(consumers, ctx.params.id);
    await emptyBody(ctx.req);
    await health.enable(ctx.params.id);
    ctx.body = presentConsumer(found(consumers, ctx.params.id));
  });

  router.post('/v1/consumers/:id/disable', requireScope('admin'), async (ctx) => {
    found(consumers, ctx.params.id);
    await emptyBody(ctx.req);
    await health.disable(ctx.params.id, 'disabled through the API');
    ctx.body = presentConsumer(found(consumers, ctx.params.id));
  });

  router.post('/v1/consumers/:id/secret/rotate', requireScope('admin'), async (ctx) => {
    found(consumers, ctx.params.id);
    const { graceSeconds } = await rotateBody(ctx.req);
    const secret = await consumers.rotateSecret(ctx.params.id, graceSeconds * 1000);
    ctx.body = { secret, previousSecretsExpireAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000).toISOString() : null };
  });
}
