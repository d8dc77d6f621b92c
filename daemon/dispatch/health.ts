import type { Logger } from 'pino';
import type { OpsEvents } from '../common/ops-events.js';
import type { AttemptRecord } from '../store/records.js';
import type { ConsumerRegistry } from './consumers.js';

/** What health reads of the config; replaced as a whole on reload. */
export interface HealthSettings {
  /** How long a consumer may fail every attempt before it is disabled (delivery.disableAfter), in ms. */
  disableAfter: number;
}

/**
 * Consumer health: a consumer whose attempts have all failed for `delivery.disableAfter` is
 * disabled (any success resets the clock), and one that answers 410 Gone is disabled at once.
 * Messages that fall due while it is disabled are marked `skipped`, never dropped.
 */
export class ConsumerHealth {
  /** Consumers being disabled right now: concurrent failures must not disable (and announce) twice. */
  private readonly disabling = new Set<string>();

  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly ops: OpsEvents,
    private readonly log: Logger,
    public settings: HealthSettings,
  ) {}

  async afterAttempt(consumerId: string, attempt: AttemptRecord): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined || consumer.disabled) return;
    const now = attempt.startedAt + attempt.durationMs;
    const failingSince = consumer.state.failingSince ?? null;
    if (attempt.outcome === 'success') {
      if (failingSince !== null) await this.consumers.updateState(consumerId, { failingSince: null });
      return;
    }
    if (attempt.response?.statusCode === 410) {
      await this.disable(consumerId, 'the endpoint answered 410 Gone');
    } else if (failingSince === null) {
      await this.consumers.updateState(consumerId, { failingSince: now });
    } else if (now - failingSince >= this.settings.disableAfter) {
      await this.disable(
        consumerId,
        `every attempt failed since ${new Date(failingSince).toISOString()} (delivery.disableAfter)`,
        failingSince,
      );
    }
  }

  async disable(consumerId: string, reason: string, failingSince: number | null = null): Promise<void> {
    if (this.consumers.get(consumerId)?.disabled || this.disabling.has(consumerId)) return;
    this.disabling.add(consumerId);
    try {
      await this.consumers.updateState(consumerId, {
        disabled: true,
        disabledReason: reason,
        changedAt: Date.now(),
        failingSince: null,
      });
    } finally {
      this.disabling.delete(consumerId);
    }
    this.ops.publish('consumer.disabled', {
      consumerId,
      reason,
      failingSince: failingSince === null ? null : new Date(failingSince).toISOString(),
    });
  }

  async enable(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined || !consumer.disabled) return;
    await this.consumers.updateState(consumerId, {
      disabled: false,
      disabledReason: undefined,
      changedAt: Date.now(),
      failingSince: null,
    });
    this.ops.publish('consumer.enabled', { consumerId });
    this.log.info({ consumerId }, 'consumer enabled');
  }
}
