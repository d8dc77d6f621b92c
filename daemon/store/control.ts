import type { GroupCommit } from './group-commit.js';
import type { Keyspace } from './keyspace.js';
import type { ApiConsumerRecord, ConsumerState, SecretRecord, TaskRecord } from './records.js';

/**
 * What hooksd keeps about its consumers and bulk tasks, beside the delivery records: the
 * consumers created through the API, generated and rotated secrets, run-time state (enabled
 * or disabled, failing since) and tasks. Every write here is synced.
 */
export class ControlRecords {
  constructor(
    private readonly space: Keyspace,
    private readonly writer: GroupCommit,
  ) {}

  async apiConsumers(): Promise<ApiConsumerRecord[]> {
    return this.space.apiConsumers.values().all();
  }

  async apiConsumer(id: string): Promise<ApiConsumerRecord | undefined> {
    return (await this.space.apiConsumers.get(id)) ?? undefined;
  }

  /** Stores a new API consumer with its secrets, forgetting any state left by an earlier one of that id. */
  async createApiConsumer(entry: ApiConsumerRecord, secrets: SecretRecord): Promise<void> {
    const { apiConsumers, secrets: secretsLevel, consumerState } = this.space;
    await this.writer.write(
      [
        { type: 'put', sublevel: apiConsumers, key: entry.id, value: entry },
        { type: 'put', sublevel: secretsLevel, key: entry.id, value: secrets },
        { type: 'del', sublevel: consumerState, key: entry.id },
      ],
      true,
    );
  }

  async updateApiConsumer(entry: ApiConsumerRecord): Promise<void> {
    await this.writer.write([{ type: 'put', sublevel: this.space.apiConsumers, key: entry.id, value: entry }], true);
  }

  /** Forgets an API consumer with its secrets and state. */
  async deleteApiConsumer(id: string): Promise<void> {
    const { apiConsumers, secrets, consumerState } = this.space;
    await this.writer.write(
      [apiConsumers, secrets, consumerState].map((sublevel) => ({ type: 'del' as const, sublevel, key: id })),
      true,
    );
  }

  async secrets(consumerId: string): Promise<SecretRecord | undefined> {
    return (await this.space.secrets.get(consumerId)) ?? undefined;
  }

  async putSecrets(consumerId: string, record: SecretRecord): Promise<void> {
    await this.writer.write([{ type: 'put', sublevel: this.space.secrets, key: consumerId, value: record }], true);
  }

  async consumerStates(ids: string[]): Promise<(ConsumerState | undefined)[]> {
    return this.space.consumerState.getMany(ids);
  }

  async putConsumerState(consumerId: string, state: ConsumerState): Promise<void> {
    await this.writer.write([{ type: 'put', sublevel: this.space.consumerState, key: consumerId, value: state }], true);
  }

  async tasks(): Promise<TaskRecord[]> {
    return this.space.tasks.values().all();
  }

  async task(id: string): Promise<TaskRecord | undefined> {
    return (await this.space.tasks.get(id)) ?? undefined;
  }

  async deleteTasks(ids: string[]): Promise<void> {
    await this.writer.write(
      ids.map((key) => ({ type: 'del' as const, sublevel: this.space.tasks, key })),
      true,
    );
  }

  async putTask(task: TaskRecord): Promise<void> {
    await this.writer.write([{ type: 'put', sublevel: this.space.tasks, key: task.id, value: task }], true);
  }
}
