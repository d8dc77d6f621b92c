import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConsumerConfig } from '../../config/schema.js';
import type { Store } from '../store/store.js';

/** How often an instance says again which YAML it reads. */
const RENEW_MS = 30_000;
/** A record not renewed for this long is of an instance gone: it no longer counts. */
const GONE_AFTER_MS = 3 * RENEW_MS;

/** JSON with the keys of every object in order, so that the same settings always read the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export const consumersDigest = (consumers: readonly ConsumerConfig[]): string =>
  createHash('sha256').update(canonical(consumers)).digest('hex');

/**
 * Every instance should read the same hooks.config.yaml. Each publishes the digest of its YAML
 * consumers in the control bucket (renewed every 30 s, removed when it stops) and compares it
 * with the others': one whose digest differs from another live instance's says so in its log,
 * once per change, and in /readyz details; it stays ready.
 */
export class YamlAgreement {
  private digest = '';
  private count = 0;
  private differing: string[] = [];
  private reported = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly instanceId: string,
    private readonly log: Logger,
  ) {
    store.control.listen((kind) => {
      if (kind === 'yaml' && this.digest !== '') this.compare();
    });
  }

  /** Publishes the digest of the consumers loaded (at start and on each reload) and keeps it fresh. */
  async publish(consumers: readonly ConsumerConfig[]): Promise<void> {
    this.digest = consumersDigest(consumers);
    this.count = consumers.length;
    await this.renew();
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.renew().catch(() => undefined), RENEW_MS);
      this.timer.unref();
    }
  }

  /** What /readyz tells, when this instance's YAML differs from another's. */
  problem(): string | undefined {
    if (this.differing.length === 0) return undefined;
    return (
      `the consumers in this instance's config file differ from those of ${this.differing.join(', ')}: ` +
      'every instance should read the same file'
    );
  }

  /**
   * Whether the instance reads the same YAML consumers as this one: true or false, or null when
   * it has published no digest lately.
   */
  agreesWith(instanceId: string): boolean | null {
    if (instanceId === this.instanceId) return true;
    const record = this.store.control.yamlDigests().get(instanceId);
    if (record === undefined || record.at < Date.now() - GONE_AFTER_MS) return null;
    return record.digest === this.digest;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.digest !== '' && this.store.control.isOpen)
      await this.store.control.deleteYamlDigest(this.instanceId).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    await this.store.control.putYamlDigest(this.instanceId, {
      digest: this.digest,
      consumers: this.count,
      at: Date.now(),
    });
    this.compare();
  }

  private compare(): void {
    const since = Date.now() - GONE_AFTER_MS;
    const differing: string[] = [];
    for (const [instance, record] of this.store.control.yamlDigests())
      if (instance !== this.instanceId && record.at >= since && record.digest !== this.digest) differing.push(instance);
    differing.sort();
    this.differing = differing;
    const verdict = `${this.digest} ${differing.join(',')}`;
    if (verdict === this.reported) return;
    const before = this.reported;
    this.reported = verdict;
    if (differing.length > 0)
      this.log.warn(
        { instance: this.instanceId, differentFrom: differing, digest: this.digest },
        "this instance's consumers in the config file differ from other instances': every instance should read " +
          'the same file',
      );
    else if (before !== '' && !before.endsWith(' '))
      this.log.info(
        { instance: this.instanceId },
        'the consumers in the config file are the same on every instance now',
      );
  }
}
