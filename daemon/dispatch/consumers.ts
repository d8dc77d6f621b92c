import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { ConsumerConfig } from '../../config/schema.js';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { HooksdError } from '../common/errors.js';
import type { ConsumerState, MessageRecord, SecretRecord, StoredSecret } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { ConsumerPipeline, Pipeline } from './pipeline.js';
import { effectiveSecrets, rotate, secretDigest, signingKeys, type SigningKey } from './secrets.js';

/** The delivery settings a consumer takes when it sets none of its own. */
export interface ConsumerDefaults {
  /** delivery.timeout, in ms. */
  timeout: number;
  /** delivery.concurrency. */
  concurrency: number;
}

/** Later than any due time (the due index holds 15 digits of milliseconds). */
const END_OF_TIME = 9e14;
const DELETE_STEP = 500;
/** Time for a request cut by its timeout to close its socket before the agent is destroyed. */
const RETIRE_MARGIN_MS = 1000;

/** A consumer as the delivery path uses it: settings resolved, keys decoded, agents ready. */
export interface Consumer {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly source: 'yaml' | 'api';
  readonly eventTypes: readonly string[];
  readonly filter?: Readonly<Record<string, unknown>>;
  /** The config's `disabled`, unless the API or a health check changed it since. */
  readonly disabled: boolean;
  readonly state: Readonly<ConsumerState>;
  readonly configDisabled: boolean;
  readonly configSecret?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeout: number;
  readonly concurrency: number;
  readonly rateLimit?: number;
  readonly secrets: readonly StoredSecret[];
  /** Every secret's key with its expiry: use `activeKeys` to pick the ones that sign now. */
  readonly signingKeys: readonly SigningKey[];
  readonly agent: { http: http.Agent; https: https.Agent };
  readonly pipeline: ConsumerPipeline;
}

/**
 * The consumers of the running config. Built once per config (start-up and reload), so the
 * hot path only looks up: `forEventType` answers from a per-type cache.
 */
export class ConsumerRegistry {
  private byId = new Map<string, Consumer>();
  private byEventType = new Map<string, Consumer[]>();
  private defaults!: ConsumerDefaults;
  private pipeline!: Pipeline;

  constructor(
    private readonly store: Store,
    private readonly configDir: string,
  ) {}

  /**
   * Builds the consumers of the config file and those created through the API. A YAML consumer
   * wins over an API consumer with the same id; the ids of the API consumers it hides are returned.
   */
  async load(fromYaml: readonly ConsumerConfig[], defaults: ConsumerDefaults, pipeline: Pipeline): Promise<string[]> {
    const yamlIds = new Set(fromYaml.map((c) => c.id));
    // Kept as the API validated them on create and update.
    const fromApi = (await this.store.control.apiConsumers()) as ConsumerConfig[];
    const hidden = fromApi.filter((c) => yamlIds.has(c.id)).map((c) => c.id);
    const entries = [
      ...fromYaml.map((entry) => ({ entry, source: 'yaml' as const })),
      ...fromApi.filter((c) => !yamlIds.has(c.id)).map((entry) => ({ entry, source: 'api' as const })),
    ];
    const states = await this.store.control.consumerStates(entries.map((e) => e.entry.id));
    const next = new Map<string, Consumer>();
    for (const [i, { entry, source }] of entries.entries()) {
      next.set(entry.id, await this.build(entry, source, defaults, states[i] ?? {}, pipeline.forConsumer(entry)));
    }
    const previous = this.byId;
    this.byId = next;
    this.byEventType = new Map();
    this.defaults = defaults;
    this.pipeline = pipeline;
    this.retire([...previous.values()]);
    return hidden;
  }

  /**
   * Creates a consumer through the API and persists it. Its secret is `secret` when given,
   * else a generated one; either way it is returned so the caller can show it once.
   */
  async create(entry: ConsumerConfig, secret = generateSecret()): Promise<{ consumer: Consumer; secret: string }> {
    if (this.byId.has(entry.id))
      throw new HooksdError('HOOKSD_CONSUMER_EXISTS', `a consumer with id "${entry.id}" already exists`);
    const consumerPipeline = this.pipelineFor(entry);
    const record: SecretRecord = { secrets: [{ secret, expiresAt: null }], configSecretHash: null };
    await this.store.control.createApiConsumer(entry, record);
    const consumer = await this.build(entry, 'api', this.defaults, {}, consumerPipeline);
    this.set(consumer);
    return { consumer, secret };
  }

  /** Replaces an API consumer's settings; its secrets and run-time state stay. */
  async update(entry: ConsumerConfig): Promise<Consumer> {
    const current = this.apiConsumer(entry.id);
    const consumerPipeline = this.pipelineFor(entry);
    await this.store.control.updateApiConsumer(entry);
    const consumer = await this.build(entry, 'api', this.defaults, current.state, consumerPipeline);
    this.set(consumer);
    this.retire([current]);
    return consumer;
  }

  /**
   * Deletes an API consumer. Its messages stay; those still due end as `skipped` now, so a
   * consumer created later with the same id never receives them.
   */
  async remove(id: string): Promise<void> {
    const current = this.apiConsumer(id);
    await this.store.control.deleteApiConsumer(id);
    this.byId.delete(id);
    this.byEventType = new Map();
    this.retire([current]);
    for (;;) {
      const due = await this.store.due.entries(id, END_OF_TIME, DELETE_STEP);
      if (due.length === 0) return;
      const now = Date.now();
      const skipped = (message: MessageRecord): MessageRecord => ({
        ...message,
        status: 'skipped',
        nextAttemptAt: null,
        updatedAt: now,
        lastError: `consumer "${id}" was deleted`,
      });
      const stale = due.filter((entry) => entry.message === undefined).map((entry) => entry.key);
      if (stale.length > 0) await this.store.due.drop(stale);
      const ops = due.flatMap(({ message }) =>
        message === undefined ? [] : this.store.messageUpdateOps(message, skipped(message)),
      );
      await this.store.write(ops, true);
    }
  }

  /** The stored settings of an API consumer, as created or last updated. */
  async apiConfig(id: string): Promise<ConsumerConfig> {
    this.apiConsumer(id);
    const stored = await this.store.control.apiConsumer(id);
    if (stored === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    return stored as ConsumerConfig;
  }

  get(id: string): Consumer | undefined {
    return this.byId.get(id);
  }

  all(): Consumer[] {
    return [...this.byId.values()];
  }

  /** Persists a change of the consumer's run-time state and applies it. */
  async updateState(id: string, change: Partial<ConsumerState>): Promise<Consumer> {
    const current = this.byId.get(id);
    if (current === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    const state = { ...current.state, ...change };
    await this.store.control.putConsumerState(id, state);
    const updated = Object.freeze({ ...current, state, disabled: state.disabled ?? current.configDisabled });
    this.byId.set(id, updated);
    this.byEventType = new Map();
    return updated;
  }

  /**
   * Replaces the consumer's signing secret with a new one, returned once; the current ones
   * keep signing for `graceMs`. Kept in the store, so it outlives restarts and reloads.
   */
  async rotateSecret(id: string, graceMs: number): Promise<string> {
    const current = this.byId.get(id);
    if (current === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    const { secret, secrets } = rotate(current.secrets, graceMs);
    const configSecret = current.configSecret;
    await this.store.control.putSecrets(id, {
      secrets,
      configSecretHash: configSecret === undefined ? null : secretDigest(configSecret),
    });
    this.byId.set(id, Object.freeze({ ...current, secrets, signingKeys: signingKeys(secrets) }));
    this.byEventType = new Map();
    return secret;
  }

  private apiConsumer(id: string): Consumer {
    const current = this.byId.get(id);
    if (current === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    if (current.source !== 'api')
      throw new HooksdError(
        'HOOKSD_CONSUMER_READ_ONLY',
        `consumer "${id}" comes from the config file: change it there`,
      );
    return current;
  }

  /** The pipeline of a consumer being created or changed; a filter the plugins refuse is the request's fault. */
  private pipelineFor(entry: ConsumerConfig): ConsumerPipeline {
    try {
      return this.pipeline.forConsumer(entry);
    } catch (error) {
      throw new HooksdError('HOOKSD_INVALID_REQUEST', (error as Error).message);
    }
  }

  private set(consumer: Consumer): void {
    this.byId.set(consumer.id, consumer);
    this.byEventType = new Map();
  }

  /**
   * In-flight attempts may still hold the old agents: close them once those must have ended,
   * that is after the longest of the replaced consumers' own timeouts (got ends every request
   * by then).
   */
  private retire(replaced: Consumer[]): void {
    const longest = Math.max(0, ...replaced.map((consumer) => consumer.timeout));
    setTimeout(() => replaced.forEach(destroyAgents), longest + RETIRE_MARGIN_MS).unref();
  }

  forEventType(eventType: string): Consumer[] {
    let found = this.byEventType.get(eventType);
    if (found === undefined) {
      found = this.all().filter((c) => c.pipeline.matchesType(eventType));
      this.byEventType.set(eventType, found);
    }
    return found;
  }

  stop(): void {
    for (const consumer of this.byId.values()) destroyAgents(consumer);
  }

  private async build(
    entry: ConsumerConfig,
    source: Consumer['source'],
    defaults: ConsumerDefaults,
    state: ConsumerState,
    pipeline: ConsumerPipeline,
  ): Promise<Consumer> {
    const concurrency = entry.concurrency ?? defaults.concurrency;
    const agentOptions = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    const tls = {
      cert: this.pem(entry.tls.cert),
      key: this.pem(entry.tls.key),
      ca: this.pem(entry.tls.ca),
    };
    return Object.freeze({
      id: entry.id,
      url: entry.url,
      description: entry.description,
      source,
      eventTypes: entry.eventTypes,
      filter: entry.filter,
      disabled: state.disabled ?? entry.disabled,
      configDisabled: entry.disabled,
      state,
      headers: entry.headers,
      timeout: entry.timeout ?? defaults.timeout,
      concurrency,
      rateLimit: entry.rateLimit,
      ...(await this.secretsOf(entry)),
      configSecret: entry.secret,
      agent: { http: new http.Agent(agentOptions), https: new https.Agent({ ...agentOptions, ...tls }) },
      pipeline,
    });
  }

  /** The config's secret, or the rotated or generated ones kept in the store (generated on first start). */
  private async secretsOf(entry: ConsumerConfig): Promise<{ secrets: StoredSecret[]; signingKeys: SigningKey[] }> {
    let secrets = effectiveSecrets(entry.secret, await this.store.control.secrets(entry.id));
    if (secrets === undefined) {
      secrets = [{ secret: generateSecret(), expiresAt: null }];
      await this.store.control.putSecrets(entry.id, { secrets, configSecretHash: null });
    }
    return { secrets, signingKeys: signingKeys(secrets) };
  }

  /** PEM text as given, or read from a file path relative to the config file. */
  private pem(value: string | undefined): string | undefined {
    if (value === undefined || value.includes('-----BEGIN')) return value;
    return readFileSync(path.resolve(this.configDir, value), 'utf8');
  }
}

function destroyAgents(consumer: Consumer): void {
  consumer.agent.http.destroy();
  consumer.agent.https.destroy();
}
