import type { Keyspace } from './keyspace.js';
import type { ApiConsumerRecord, ConsumerState, SecretRecord, TaskRecord } from './records.js';

/** Marks, among the counters, that the control data was carried over to the control bucket. */
const MIGRATED = 'controlCarriedOver';

/** The control data hooksd up to 0.2 kept in LevelDB, as it was left there. */
export interface LegacyControlData {
  apiConsumers: ApiConsumerRecord[];
  secrets: [string, SecretRecord][];
  states: [string, ConsumerState][];
  tasks: TaskRecord[];
}

/**
 * The consumers, secrets, states and tasks hooksd kept in LevelDB before they moved to the
 * control bucket (control-plane.ts): read once, when they are carried over at the first start,
 * and left as they were (an older hooksd still finds them), with a mark that they were.
 */
export class LegacyControl {
  constructor(private readonly space: Keyspace) {}

  async carriedOver(): Promise<boolean> {
    return (await this.space.counters.get(MIGRATED)) !== undefined;
  }

  async read(): Promise<LegacyControlData> {
    const { apiConsumers, secrets, consumerState, tasks } = this.space;
    return {
      apiConsumers: await apiConsumers.values().all(),
      secrets: await secrets.iterator().all(),
      states: await consumerState.iterator().all(),
      tasks: await tasks.values().all(),
    };
  }

  async markCarriedOver(): Promise<void> {
    await this.space.db.batch([{ type: 'put', sublevel: this.space.counters, key: MIGRATED, value: {} }], {
      sync: true,
    });
  }
}
