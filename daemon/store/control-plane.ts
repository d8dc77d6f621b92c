import { HooksdError } from '../common/errors.js';
import { ControlBucket } from './control-bucket.js';
import { encodeId, parseControlKey, type ControlKind, type ControlValues } from './control-keys.js';
import type {
  ApiConsumerRecord,
  ConsumerState,
  SecretRecord,
  TaskPartRecord,
  TaskRecord,
  YamlDigestRecord,
} from './records.js';

/**
 * The control plane: what every hooksd instance sharing one NATS JetStream shares, read and
 * written by kind in the control bucket (control-bucket.ts). Changes that must be decided once
 * for the group (disabling a consumer, rotating a secret) are compare-and-set.
 */
export class ControlPlane extends ControlBucket {
  // ---- reads: from memory ----

  apiConsumers(): ApiConsumerRecord[] {
    return this.all('consumers');
  }

  apiConsumer(id: string): ApiConsumerRecord | undefined {
    return this.value('consumers', id);
  }

  secrets(consumerId: string): SecretRecord | undefined {
    return this.value('secrets', consumerId);
  }

  consumerState(consumerId: string): ConsumerState | undefined {
    return this.value('states', consumerId);
  }

  tasks(): TaskRecord[] {
    return this.all('tasks');
  }

  task(id: string): TaskRecord | undefined {
    return this.value('tasks', id);
  }

  /** The parts of a task saved so far, one per instance that started it. */
  taskParts(taskId: string): TaskPartRecord[] {
    return this.all('parts', encodeId(`${taskId}/`));
  }

  /** Each instance's YAML digest, by instance id. */
  yamlDigests(): Map<string, YamlDigestRecord> {
    const found = new Map<string, YamlDigestRecord>();
    for (const [key, entry] of this.entries) {
      const parsed = parseControlKey(key);
      if (parsed?.kind === 'yaml' && entry.value !== undefined) found.set(parsed.id, entry.value as YamlDigestRecord);
    }
    return found;
  }

  // ---- writes: each resolves once this instance applies it ----

  /** Claims the id for a new API consumer: fails when the bucket holds a consumer of that id already. */
  async createApiConsumer(entry: ApiConsumerRecord): Promise<void> {
    const written = await this.compareAndSet('consumers', entry.id, (current) =>
      current === undefined ? entry : undefined,
    );
    if (!written) throw new HooksdError('HOOKSD_CONSUMER_EXISTS', `a consumer with id "${entry.id}" already exists`);
  }

  async putApiConsumer(entry: ApiConsumerRecord): Promise<void> {
    await this.write('consumers', entry.id, entry);
  }

  /** Forgets an API consumer with its secrets and state. */
  async deleteApiConsumer(id: string): Promise<void> {
    await this.write('consumers', id, undefined);
    await this.write('secrets', id, undefined);
    await this.write('states', id, undefined);
  }

  async putSecrets(consumerId: string, record: SecretRecord): Promise<void> {
    await this.write('secrets', consumerId, record);
  }

  /** Stores `record` unless the bucket holds good secrets for the consumer already; true when it did. */
  async createSecrets(consumerId: string, record: SecretRecord): Promise<boolean> {
    return this.compareAndSet('secrets', consumerId, (current) => (current === undefined ? record : undefined));
  }

  /** Replaces the consumer's secrets by `change` of the current ones, again if another instance wrote first. */
  async changeSecrets(consumerId: string, change: (current: SecretRecord | undefined) => SecretRecord): Promise<void> {
    await this.compareAndSet('secrets', consumerId, change);
  }

  /**
   * Changes the consumer's state by `change` of the current one, decided once for the group:
   * written only if no other instance changed it meanwhile, else computed again from theirs.
   * `change` answers undefined when there is nothing to do; resolves to whether it wrote.
   */
  async changeState(
    consumerId: string,
    change: (current: ConsumerState | undefined) => ConsumerState | undefined,
  ): Promise<boolean> {
    return this.compareAndSet('states', consumerId, change);
  }

  async deleteState(consumerId: string): Promise<void> {
    await this.write('states', consumerId, undefined);
  }

  async putTask(task: TaskRecord): Promise<void> {
    await this.write('tasks', task.id, task);
  }

  async putTaskPart(part: TaskPartRecord): Promise<void> {
    await this.write('parts', `${part.taskId}/${part.instance}`, part);
  }

  /** Forgets tasks with their parts. */
  async deleteTasks(ids: string[]): Promise<void> {
    for (const id of ids) {
      for (const part of this.taskParts(id)) await this.write('parts', `${id}/${part.instance}`, undefined);
      await this.write('tasks', id, undefined);
    }
  }

  async putYamlDigest(instanceId: string, record: YamlDigestRecord): Promise<void> {
    await this.write('yaml', instanceId, record);
  }

  async deleteYamlDigest(instanceId: string): Promise<void> {
    await this.write('yaml', instanceId, undefined);
  }

  /** Stores `value` unless the key holds a good value already (carrying data over); true when it did. */
  async createIfAbsent<K extends ControlKind>(kind: K, id: string, value: ControlValues[K]): Promise<boolean> {
    return this.compareAndSet(kind, id, (current) => (current === undefined ? value : undefined));
  }
}
