import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { OPS_SUBJECT_PREFIX } from './subjects.js';

export type OpsEventType = 'consumer.disabled' | 'consumer.enabled' | 'message.failure';

/** An operational event as the API shows it: `at` is when it was published (ms since the epoch). */
export interface OpsEventEntry {
  type: OpsEventType;
  at: number;
  payload: Readonly<Record<string, unknown>>;
}

/** How many recent events are kept in memory for GET /v1/ops-events. */
export const RECENT_OPS_EVENTS = 200;

/**
 * Operational events, published on `hooksd.ops.<type>` as envelopes like the events hooksd
 * delivers, so the operator's own tooling (or hooksd itself) can act on them. Also logged,
 * so they are seen even where nothing subscribes, and the last RECENT_OPS_EVENTS kept in
 * memory for the console. Publishers put no secret in a payload (attempt errors are scrubbed
 * where they are made).
 */
export class OpsEvents {
  private nc: NatsConnection | undefined;
  /** Oldest first; at most RECENT_OPS_EVENTS. */
  private readonly kept: OpsEventEntry[] = [];

  constructor(private readonly log: Logger) {}

  attach(nc: NatsConnection): void {
    this.nc = nc;
  }

  publish(type: OpsEventType, payload: Record<string, unknown>): void {
    const at = Date.now();
    this.kept.push({ type, at, payload: Object.freeze({ ...payload }) });
    if (this.kept.length > RECENT_OPS_EVENTS) this.kept.shift();
    const envelope = { id: randomUUID(), eventType: type, generatedDate: new Date(at).toISOString(), payload };
    this.log.warn({ opsEvent: type, ...payload }, `operational event ${type}`);
    if (this.nc === undefined || this.nc.isClosed()) return;
    try {
      this.nc.publish(OPS_SUBJECT_PREFIX + type, JSON.stringify(envelope));
    } catch (error) {
      this.log.error({ err: error, opsEvent: type }, 'could not publish the operational event');
    }
  }

  /** The most recent events, newest first, `limit` at most; since this process started. */
  recent(limit: number): OpsEventEntry[] {
    return this.kept.slice(-limit).reverse();
  }
}
