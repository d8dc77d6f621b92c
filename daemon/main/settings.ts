import type { HooksdConfig } from '../../config/schema.js';
import type { DeliverySettings } from '../dispatch/attempt.js';
import type { ConsumerDefaults } from '../dispatch/consumer.js';
import type { HealthSettings } from '../dispatch/health.js';
import { NetworkGuard } from '../dispatch/network-guard.js';
import { EventCatalog } from '../ingest/catalog.js';
import type { IngestSettings } from '../ingest/ingest.js';

/** Each part's slice of the config, built once per config (start-up and reload). */
export interface PartSettings {
  ingest: IngestSettings;
  delivery: DeliverySettings;
  health: HealthSettings;
  consumerDefaults: ConsumerDefaults;
}

export function partSettings(config: HooksdConfig): PartSettings {
  const { delivery } = config;
  return {
    ingest: { catalog: new EventCatalog(config.eventTypes), unknownTypes: config.ingest.unknownTypes },
    delivery: {
      maxResponseBytes: delivery.maxResponseBytes,
      guard: new NetworkGuard(delivery.network),
    },
    health: { disableAfter: delivery.disableAfter },
    consumerDefaults: { timeout: delivery.timeout, concurrency: delivery.concurrency },
  };
}

/** Sections read once at start-up: a reload that changes them says a restart is needed. */
export const RESTART_ONLY = ['server', 'instance', 'nats', 'storage', 'shutdown'] as const;

/** Keys of other sections that are read once at start-up too. */
export const RESTART_ONLY_KEYS = ['delivery.workers'] as const;

/** The restart-only sections (and keys) that differ between two configs. */
export function sectionsNeedingRestart(running: HooksdConfig, next: HooksdConfig): string[] {
  const sections = RESTART_ONLY.filter((key) => JSON.stringify(running[key]) !== JSON.stringify(next[key]));
  const keys = running.delivery.workers === next.delivery.workers ? [] : RESTART_ONLY_KEYS;
  return [...sections, ...keys];
}
