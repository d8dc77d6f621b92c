import type { Logger } from 'pino';
import { EVENT_TYPE_PATTERN, type ConsumerConfig } from '../../../config/schema.js';
import { HooksdError } from '../../common/errors.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Consumer } from '../../dispatch/consumer.js';
import type { ConsumerHealth } from '../../dispatch/health.js';
import { sortableId } from '../../store/ids.js';
import {
  changedConsumerSchema,
  consumerSchema,
  createdConsumerSchema,
  pageOf,
  rotatedSecretSchema,
} from '../answer-schemas.js';
import { checkConsumerChange, type ConsumerPolicy } from '../consumer-checks.js';
import { createConsumerSchema, patchConsumerSchema } from '../consumer-schemas.js';
import { iso, isoOrNull } from '../present.js';
import type { RouteTable } from '../route-table.js';
import { pageByKey } from '../paging.js';
import { emptyBodySchema, pageQuerySchema } from '../validation.js';

const DAY_SECONDS = 86_400;
const rotateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    graceSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 30 * DAY_SECONDS,
      default: DAY_SECONDS,
      description: 'How long the old secrets keep signing beside the new one, at most 30 days.',
    },
  },
};

interface ConsumersQuery {
  limit: number;
  cursor?: string;
  eventType?: string;
  disabled?: boolean;
  source?: 'yaml' | 'api';
  q?: string;
}

type CreateBody = Omit<ConsumerConfig, 'plugins' | 'tls' | 'transform' | 'id'> & { id?: string };
type PatchBody = Partial<Record<keyof CreateBody, unknown>>;

/** A consumer as the API shows it: never its secrets, and only the names of its headers. */
export function presentConsumer(consumer: Consumer) {
  return {
    id: consumer.id,
    url: consumer.url,
    description: consumer.description,
    source: consumer.source,
    eventTypes: consumer.eventTypes,
    filter: consumer.filter ?? null,
    transform: consumer.transform ?? null,
    disabled: consumer.disabled,
    disabledReason: consumer.disabled ? (consumer.state.disabledReason ?? 'disabled in its settings') : null,
    failingSince: isoOrNull(consumer.state.failingSince || null),
    headers: Object.keys(consumer.headers),
    rateLimit: consumer.rateLimit ?? null,
    concurrency: consumer.concurrency,
    timeoutMs: consumer.timeout,
    retryScheduleMs: consumer.pipeline.retry.schedule,
    activeSecrets: consumer.secrets.filter((s) => s.expiresAt === null || s.expiresAt > Date.now()).length,
  };
}

export function found(consumers: ConsumerRegistry, id: string): Consumer {
  const consumer = consumers.get(id);
  if (consumer === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
  return consumer;
}

function matches(consumer: Consumer, query: ConsumersQuery): boolean {
  if (query.eventType !== undefined && !consumer.pipeline.matchesType(query.eventType)) return false;
  if (query.disabled !== undefined && consumer.disabled !== query.disabled) return false;
  if (query.source !== undefined && consumer.source !== query.source) return false;
  if (query.q === undefined) return true;
  const needle = query.q.toLowerCase();
  return [consumer.id, consumer.url, consumer.description].some((text) => text.toLowerCase().includes(needle));
}

export function consumerRoutes(
  routes: RouteTable,
  deps: { consumers: ConsumerRegistry; health: ConsumerHealth; policy: ConsumerPolicy; log: Logger },
): void {
  const { consumers, health, policy, log } = deps;
  /** Answers a change with the warnings of its checks; each is logged too (the host only: a URL may hold a token). */
  const warn = (consumerId: string, warnings: string[]) => {
    if (warnings.length > 0) log.warn({ consumerId, warnings }, 'consumer saved through the API, with warnings');
    return warnings;
  };

  routes.add<ConsumersQuery>(
    {
      method: 'get',
      path: '/v1/consumers',
      tag: 'consumers',
      summary: 'Consumers from the config file and the API, by id',
      scope: 'read',
      query: {
        limit: pageQuerySchema.limit,
        cursor: pageQuerySchema.cursor,
        eventType: {
          type: 'string',
          pattern: EVENT_TYPE_PATTERN,
          description: 'only consumers subscribed to this event type',
        },
        disabled: { type: 'boolean', description: 'Only disabled (true) or enabled (false) consumers.' },
        source: { enum: ['yaml', 'api'], description: 'Only consumers from the config file (yaml) or the API.' },
        q: {
          type: 'string',
          minLength: 1,
          maxLength: 200,
          description: 'text found in the id, url or description (any case)',
        },
      },
      status: 200,
      response: pageOf(consumerSchema),
    },
    ({ query }) => {
      const page = pageByKey(
        consumers.all().filter((c) => matches(c, query)),
        (c) => c.id,
        query,
      );
      return { data: page.data.map(presentConsumer), nextCursor: page.nextCursor };
    },
  );

  routes.add<object, CreateBody>(
    {
      method: 'post',
      path: '/v1/consumers',
      tag: 'consumers',
      summary:
        'Create a consumer (left out, its id is generated); the answer shows its secret, this once. A URL ' +
        'delivery.network refuses, or event types outside the catalog, answer 400',
      scope: 'admin',
      body: createConsumerSchema,
      status: 201,
      response: createdConsumerSchema,
      errors: [409],
    },
    async ({ body }) => {
      const { secret: given, id = sortableId('con_'), ...settings } = body;
      const warnings = await checkConsumerChange(policy, settings);
      const { consumer, secret } = await consumers.create({ ...settings, id, plugins: [], tls: {} }, given);
      return { ...presentConsumer(consumer), secret, warnings: warn(id, warnings) };
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/consumers/:id',
      tag: 'consumers',
      summary: 'A consumer',
      scope: 'read',
      status: 200,
      response: consumerSchema,
      errors: [404],
    },
    ({ params }) => presentConsumer(found(consumers, params.id)),
  );

  routes.add<object, PatchBody>(
    {
      method: 'patch',
      path: '/v1/consumers/:id',
      tag: 'consumers',
      summary: 'Change an API consumer (null clears a setting); config-file consumers answer 409',
      scope: 'admin',
      body: patchConsumerSchema,
      status: 200,
      response: changedConsumerSchema,
      errors: [404, 409],
    },
    async ({ params, body }) => {
      const { disabled, ...changes } = body;
      const next: Record<string, unknown> = { ...(await consumers.apiConfig(params.id)) };
      // Only what changes is checked: a consumer made before the catalog lost a type can still be renamed.
      const warnings = await checkConsumerChange(policy, {
        url: changes.url as string | undefined,
        eventTypes: changes.eventTypes as string[] | undefined,
      });
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) delete next[name];
        else next[name] = value;
      }
      await consumers.update(next as unknown as ConsumerConfig);
      // Through the health rules, so the change is recorded and announced like the enable and disable routes.
      if (disabled === true) await health.disable(params.id, 'disabled through the API');
      if (disabled === false) await health.enable(params.id);
      return { ...presentConsumer(found(consumers, params.id)), warnings: warn(params.id, warnings) };
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/consumers/:id',
      tag: 'consumers',
      summary: 'Delete an API consumer; its messages stay, and those still due end as skipped',
      scope: 'admin',
      status: 204,
      response: null,
      errors: [404, 409],
    },
    async ({ params }) => {
      await consumers.remove(params.id);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/consumers/:id/enable',
      tag: 'consumers',
      summary: 'Enable a consumer (config-file ones too)',
      scope: 'admin',
      body: emptyBodySchema,
      status: 200,
      response: consumerSchema,
      errors: [404],
    },
    async ({ params }) => {
      found(consumers, params.id);
      await health.enable(params.id);
      return presentConsumer(found(consumers, params.id));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/consumers/:id/disable',
      tag: 'consumers',
      summary: 'Disable a consumer (config-file ones too); its due messages end as skipped',
      scope: 'admin',
      body: emptyBodySchema,
      status: 200,
      response: consumerSchema,
      errors: [404],
    },
    async ({ params }) => {
      found(consumers, params.id);
      await health.disable(params.id, 'disabled through the API');
      return presentConsumer(found(consumers, params.id));
    },
  );

  routes.add<object, { graceSeconds: number }>(
    {
      method: 'post',
      path: '/v1/consumers/:id/secret/rotate',
      tag: 'consumers',
      summary: 'A new signing secret, shown this once; the old ones keep signing for graceSeconds',
      scope: 'admin',
      body: rotateBody,
      status: 200,
      response: rotatedSecretSchema,
      errors: [404],
    },
    async ({ params, body }) => {
      found(consumers, params.id);
      const secret = await consumers.rotateSecret(params.id, body.graceSeconds * 1000);
      return {
        secret,
        previousSecretsExpireAt: body.graceSeconds > 0 ? iso(Date.now() + body.graceSeconds * 1000) : null,
      };
    },
  );
}
