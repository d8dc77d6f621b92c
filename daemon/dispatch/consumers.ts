import type { Logger } from 'pino';
import type { ConsumerConfig } from '../../config/schema.js';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { HooksdError } from '../common/errors.js';
import type { ConsumerState, MessageRecord, SecretRecord, StoredSecret } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { ConsumerPipeline, Pipeline } from './pipeline.js';
import { buildConsumer, type Consumer, type ConsumerDefaults } from './consumer.js';
import { effectiveSecrets, rotate, secretDigest, signingKeys } from './secrets.js';

/** Later than any due time (the due index holds 15 digits of milliseconds). */
const END_OF_TIME = 9e14;
const DELETE_STEP = 500;
/** Time for a request cut by its timeout to close its socket before the agent is destroyed. */
const RETIRE_MARGIN_MS = 1000;

/**
 * The consumers of the running config and those created through the API. Built once per
 * config (start-up and reload), then kept in step with the control bucket (store/control-plane.ts):
 * a consumer created, changed, deleted, enabled or disabled, or a secret rotated through any
 * instance applies here as soon as the bucket's watch brings it. The hot path only looks up:
 * `forEventType` answers from a per-type cache.
 */
export class ConsumerRegistry {
  private byId = new Map<string, Consumer>();
  private byEventType = new Map<string, Consumer[]>();
  private defaults!: ConsumerDefaults;
  private pipeline!: Pipeline;
  private yaml = new Map<string, ConsumerConfig>();
  /** The settings each consumer was built from: a change of state or secrets alone keeps its agents. */
  private builtFrom = new Map<string, object>();
  private loaded = false;
  /** Loads and changes from the bucket, one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Told when a consumer's agents are closed, so delivery workers close theirs (delivery-pool.ts). */
  agentsClosed: ((agent: Consumer['agent']) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly configDir: string,
    private readonly log: Logger,
  ) {
    store.control.listen((kind, id) => {
      if (this.loaded && (kind === 'consumers' || kind === 'states' || kind === 'secrets'))
        void this.serially(() => this.refresh(id));
    });
  }

  /**
   * Builds the consumers of the config file and those created through the API. A YAML consumer
   * wins over an API consumer with the same id; the ids of the API consumers it hides are returned.
   */
  load(fromYaml: readonly ConsumerConfig[], defaults: ConsumerDefaults, pipeline: Pipeline): Promise<string[]> {
    return this.serially(async () => {
      const yaml = new Map(fromYaml.map((c) => [c.id, c]));
      // Kept as the API validated them on create and update.
      const fromApi = this.store.control.apiConsumers() as ConsumerConfig[];
      const hidden = fromApi.filter((c) => yaml.has(c.id)).map((c) => c.id);
      const next = new Map<string, Consumer>();
      const builtFrom = new Map<string, object>();
      for (const entry of [...fromYaml, ...fromApi.filter((c) => !yaml.has(c.id))]) {
        const source = yaml.has(entry.id) ? 'yaml' : 'api';
        let consumer: Consumer;
        try {
          const secrets = await this.ensureSecrets(entry);
          consumer = this.build(entry, source, defaults, secrets, pipeline.forConsumer(entry));
        } catch (error) {
          if (source === 'yaml') throw error;
          this.unusable(entry.id, error as Error);
          continue;
        }
        next.set(entry.id, consumer);
        builtFrom.set(entry.id, entry);
      }
      const previous = this.byId;
      this.byId = next;
      this.builtFrom = builtFrom;
      this.yaml = yaml;
      this.byEventType = new Map();
      this.defaults = defaults;
      this.pipeline = pipeline;
      this.loaded = true;
      this.retire([...previous.values()]);
      return hidden;
    });
  }

  /**
   * Creates a consumer through the API and persists it. Its secret is `secret` when given,
   * else a generated one; either way it is returned so the caller can show it once.
   */
  async create(entry: ConsumerConfig, secret = generateSecret()): Promise<{ consumer: Consumer; secret: string }> {
    this.mustBeLoaded();
    if (this.byId.has(entry.id))
      throw new HooksdError('HOOKSD_CONSUMER_EXISTS', `a consumer with id "${entry.id}" already exists`);
    this.pipelineFor(entry);
    const { control } = this.store;
    // Claims the id for the group first; instances see the consumer once its secret is there.
    await control.createApiConsumer(entry);
    await control.putSecrets(entry.id, { secrets: [{ secret, expiresAt: null }], configSecretHash: null });
    // Forgets any state left by an earlier consumer of that id.
    if (control.consumerState(entry.id) !== undefined) await control.deleteState(entry.id);
    return { consumer: await this.settled(entry.id), secret };
  }

  /** Replaces an API consumer's settings; its secrets and run-time state stay. */
  async update(entry: ConsumerConfig): Promise<Consumer> {
    this.apiConsumer(entry.id);
    this.pipelineFor(entry);
    await this.store.control.putApiConsumer(entry);
    return this.settled(entry.id);
  }

  /**
   * Deletes an API consumer. Its messages stay; those still due end as `skipped` (on every
   * instance, each for the messages it holds), so a consumer created later with the same id
   * never receives them.
   */
  async remove(id: string): Promise<void> {
    this.apiConsumer(id);
    await this.store.control.deleteApiConsumer(id);
    await this.queue;
  }

  /** The stored settings of an API consumer, as created or last updated. */
  async apiConfig(id: string): Promise<ConsumerConfig> {
    this.apiConsumer(id);
    const stored = this.store.control.apiConsumer(id);
    if (stored === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    return stored as ConsumerConfig;
  }

  get(id: string): Consumer | undefined {
    return this.byId.get(id);
  }

  all(): Consumer[] {
    return [...this.byId.values()];
  }

  /**
   * Changes the consumer's run-time state, decided once for the group: `change` gets the state
   * the bucket holds (and the consumer) and answers the new one, or undefined for no change; it
   * runs again if another instance changed the state meanwhile. Resolves to whether this call
   * wrote it, once it applies here.
   */
  async changeState(
    id: string,
    change: (state: ConsumerState, consumer: Consumer) => ConsumerState | undefined,
  ): Promise<boolean> {
    const current = this.byId.get(id);
    if (current === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    const written = await this.store.control.changeState(id, (stored) => change(stored ?? {}, current));
    if (written) await this.queue;
    return written;
  }

  /**
   * Replaces the consumer's signing secret with a new one, returned once; the current ones
   * keep signing for `graceMs`. Kept in the control bucket, so every instance signs with it.
   */
  async rotateSecret(id: string, graceMs: number): Promise<string> {
    const current = this.byId.get(id);
    if (current === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    let secret = '';
    const configSecret = current.configSecret;
    await this.store.control.changeSecrets(id, (stored) => {
      const rotated = rotate(effectiveSecrets(configSecret, stored) ?? current.secrets, graceMs);
      secret = rotated.secret;
      return {
        secrets: rotated.secrets,
        configSecretHash: configSecret === undefined ? null : secretDigest(configSecret),
      };
    });
    await this.queue;
    return secret;
  }

  /** Waits for the changes queued so far to apply, then answers the consumer they built. */
  private async settled(id: string): Promise<Consumer> {
    await this.queue;
    const consumer = this.byId.get(id);
    if (consumer === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    return consumer;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Brings one consumer in line with the config file and the bucket. An API consumer seen
   * before its secret waits for it; one deleted from the bucket goes, its due messages skipped.
   */
  private async refresh(id: string): Promise<void> {
    const current = this.byId.get(id);
    const entry = this.yaml.get(id) ?? (this.store.control.apiConsumer(id) as ConsumerConfig | undefined);
    if (entry === undefined) {
      if (current === undefined) return;
      this.byId.delete(id);
      this.builtFrom.delete(id);
      this.byEventType = new Map();
      this.retire([current]);
      await this.skipDue(id);
      return;
    }
    const secrets = effectiveSecrets(entry.secret, this.store.control.secrets(id));
    if (secrets === undefined) return;
    try {
      if (current !== undefined && this.builtFrom.get(id) === entry) {
        const state = this.store.control.consumerState(id) ?? {};
        const keys = current.secrets === secrets ? current.signingKeys : signingKeys(secrets);
        this.set(
          Object.freeze({
            ...current,
            state,
            disabled: state.disabled ?? current.configDisabled,
            secrets,
            signingKeys: keys,
          }),
        );
        return;
      }
      const source = this.yaml.has(id) ? 'yaml' : 'api';
      this.set(this.build(entry, source, this.defaults, secrets, this.pipelineFor(entry)));
      this.builtFrom.set(id, entry);
      if (current !== undefined) this.retire([current]);
    } catch (error) {
      this.unusable(id, error as Error);
    }
  }

  /** Those of the deleted consumer's messages still due end as skipped. */
  private async skipDue(id: string): Promise<void> {
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

  private unusable(id: string, error: Error): void {
    this.log.error(
      { consumerId: id, bucket: this.store.control.bucketName, reason: error.message },
      'a consumer in the control bucket cannot be used: skipped until it is changed',
    );
  }

  private mustBeLoaded(): void {
    if (!this.loaded)
      throw new HooksdError(
        'HOOKSD_NATS_UNAVAILABLE',
        'consumers are not loaded yet: hooksd is waiting for NATS and its control bucket (see /readyz)',
      );
  }

  private apiConsumer(id: string): Consumer {
    this.mustBeLoaded();
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
   * that is after the longest of the replaced consumers' own timeouts (either transport ends every request
   * by then).
   */
  private retire(replaced: Consumer[]): void {
    const longest = Math.max(0, ...replaced.map((consumer) => consumer.timeout));
    setTimeout(() => replaced.forEach((consumer) => this.closeAgents(consumer)), longest + RETIRE_MARGIN_MS).unref();
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
    for (const consumer of this.byId.values()) this.closeAgents(consumer);
  }

  private closeAgents(consumer: Consumer): void {
    consumer.agent.http.destroy();
    consumer.agent.https.destroy();
    this.agentsClosed?.(consumer.agent);
  }

  private build(
    entry: ConsumerConfig,
    source: Consumer['source'],
    defaults: ConsumerDefaults,
    secrets: StoredSecret[],
    pipeline: ConsumerPipeline,
  ): Consumer {
    const state = this.store.control.consumerState(entry.id) ?? {};
    return buildConsumer(entry, { source, defaults, secrets, pipeline, state }, this.configDir);
  }

  /**
   * The config's secret, or the rotated or generated ones kept in the bucket; generated when
   * there are none, unless another instance generated them first.
   */
  private async ensureSecrets(entry: ConsumerConfig): Promise<StoredSecret[]> {
    const { control } = this.store;
    const found = effectiveSecrets(entry.secret, control.secrets(entry.id));
    if (found !== undefined) return found;
    const record: SecretRecord = { secrets: [{ secret: generateSecret(), expiresAt: null }], configSecretHash: null };
    await control.createSecrets(entry.id, record);
    return effectiveSecrets(entry.secret, control.secrets(entry.id)) ?? record.secrets;
  }
}
