import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { OPS_SUBJECT_PREFIX } from './subjects.js';

export type OpsEventType = 'consumer.disabled' | 'consumer.enabled' | 'message.failure';

/**
 * Operational events, published on `hooksd.ops.<type>` as envelopes like the events hooksd
 * delivers, so the operator's own tooling (or hooksd itself) can act on them. Also logged,
 * so they are seen even where nothing subscribes.
 */
export class OpsEvents {
  private nc: NatsConnection | undefined;

  constructor(private readonly log: Logger) {}

  attach(nc: NatsConnection): void {
    this.nc = nc;
  }

  publish(type: OpsEventType, payload: Record<string, unknown>): void {
    const envelope = { id: randomUUID(), eventType: type, generatedDate: new Date().toISOString(), payload };
    this.log.warn({ opsEvent: type, ...payload }, `operational event ${type}`);
    if (this.nc === undefined || this.nc.isClosed()) return;
    try {
      this.nc.publish(OPS_SUBJECT_PREFIX + type, JSON.stringify(envelope));
    } catch (error) {
      this.log.error({ err: error, opsEvent: type }, 'could not publish the operational event');
    }
  }
}
