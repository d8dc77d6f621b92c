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
 *
 * The clock is the consumer's state in the control bucket, shared by every instance: the first
 * failure on any instance starts it, a success on any instance stops it, and each change is a
 * compare-and-set, so the group disables a consumer once, with one `consumer.disabled` event,
 * however many instances see it fail. Each instance skips the writes its own view says are
 * not needed (a failure while the clock runs, a success while it is stopped): a success on one
 * instance within the moment the bucket takes to tell it of another's first failure (a few ms)
 * does not stop that clock; the next success does.
 */
export class ConsumerHealth {
  /** Consumers being disabled right now: concurrent failures here wait for the one decision. */
  private readonly disabling = new Set<string>();
  /** Per consumer whose outcomes are being followed: the latest of each outcome that came in meanwhile. */
  private readonly waiting = new Map<string, { success?: AttemptRecord; failure?: AttemptRecord }>();

  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly ops: OpsEvents,
    private readonly log: Logger,
    public settings: HealthSettings,
  ) {}

  /**
   * Follows an attempt's outcome without holding the attempt up: what it changes is written to
   * the control bucket in the background, one write at a time per consumer, so that a bucket out
   * of reach (each write waiting for its timeout) never slows delivery. Outcomes that come in
   * meanwhile are kept as the latest success and the latest failure, followed in order once the
   * write in flight ends; one that cannot be recorded is logged, and the next attempt tries again.
   */
  afterAttempt(consumerId: string, attempt: AttemptRecord): Promise<void> {
    const waiting = this.waiting.get(consumerId);
    if (waiting !== undefined) {
      waiting[attempt.outcome] = attempt;
      return Promise.resolve();
    }
    this.waiting.set(consumerId, {});
    void this.drain(consumerId, [attempt]);
    return Promise.resolve();
  }

  /** Resolves once every outcome handed over so far is followed. */
  async idle(): Promise<void> {
    while (this.waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private async drain(consumerId: string, outcomes: AttemptRecord[]): Promise<void> {
    for (let next = outcomes; next.length > 0;) {
      for (const attempt of next) {
        try {
          await this.follow(consumerId, attempt);
        } catch (error) {
          this.log.warn(
            { consumerId, reason: (error as Error).message },
            "the consumer's health could not be recorded in the control bucket; the next attempt tries again",
          );
        }
      }
      const { success, failure } = this.waiting.get(consumerId) ?? {};
      this.waiting.set(consumerId, {});
      next = [success, failure]
        .filter((a): a is AttemptRecord => a !== undefined)
        .sort((x, y) => x.startedAt + x.durationMs - (y.startedAt + y.durationMs));
    }
    this.waiting.delete(consumerId);
  }

  private async follow(consumerId: string, attempt: AttemptRecord): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined || consumer.disabled) return;
    const now = attempt.startedAt + attempt.durationMs;
    const failingSince = consumer.state.failingSince ?? null;
    if (attempt.outcome === 'success') {
      if (failingSince !== null)
        await this.consumers.changeState(consumerId, (state) =>
          (state.failingSince ?? null) === null ? undefined : { ...state, failingSince: null },
        );
      return;
    }
    if (attempt.response?.statusCode === 410) {
      await this.disable(consumerId, 'the endpoint answered 410 Gone');
    } else if (failingSince === null) {
      await this.consumers.changeState(consumerId, (state, current) =>
        (state.disabled ?? current.configDisabled) || (state.failingSince ?? null) !== null
          ? undefined
          : { ...state, failingSince: now },
      );
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
    let written: boolean;
    try {
      // Written only by the instance that finds it enabled: the others find it disabled and say nothing.
      written = await this.consumers.changeState(consumerId, (state, current) =>
        (state.disabled ?? current.configDisabled)
          ? undefined
          : { ...state, disabled: true, disabledReason: reason, changedAt: Date.now(), failingSince: null },
      );
    } finally {
      this.disabling.delete(consumerId);
    }
    if (!written) return;
    this.ops.publish('consumer.disabled', {
      consumerId,
      reason,
      failingSince: failingSince === null ? null : new Date(failingSince).toISOString(),
    });
  }

  async enable(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined || !consumer.disabled) return;
    const written = await this.consumers.changeState(consumerId, (state, current) =>
      (state.disabled ?? current.configDisabled)
        ? { ...state, disabled: false, disabledReason: undefined, changedAt: Date.now(), failingSince: null }
        : undefined,
    );
    if (!written) return;
    // The operational event's own log line is the one line an enable gets, as a disable does.
    this.ops.publish('consumer.enabled', { consumerId });
  }
}
