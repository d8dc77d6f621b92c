import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { validateConfigFile } from '../config/loader.js';
import type { HooksdConfig } from '../config/schema.js';
import { EventCatalog } from './catalog.js';
import { NetworkGuard } from './network-guard.js';

/** The settings that change on reload, shared by reference with the parts that read them. */
export interface LiveConfig {
  config: HooksdConfig;
  catalog: EventCatalog;
  guard: NetworkGuard;
}

/** Sections read once at start-up: a reload that changes them says a restart is needed. */
const RESTART_ONLY = ['server', 'nats', 'storage', 'shutdown'] as const;
const DEBOUNCE_MS = 200;

export function liveConfig(config: HooksdConfig): LiveConfig {
  return { config, catalog: new EventCatalog(config.eventTypes), guard: new NetworkGuard(config.delivery.network) };
}

/** Swaps in `next`, telling which sections will only apply after a restart. */
export function swapLiveConfig(live: LiveConfig, next: HooksdConfig, log: Logger): void {
  const needRestart = RESTART_ONLY.filter((key) => JSON.stringify(live.config[key]) !== JSON.stringify(next[key]));
  if (needRestart.length > 0) log.warn({ sections: needRestart }, 'these sections changed and apply after a restart');
  live.catalog = new EventCatalog(next.eventTypes);
  live.guard = new NetworkGuard(next.delivery.network);
  live.config = next;
}

/**
 * Re-reads the config file on change and on demand. A file with problems is refused (each
 * problem logged) and the running config stays.
 */
export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly apply: (config: HooksdConfig) => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    // Editors replace files rather than write them in place, so watch the folder.
    const name = path.basename(this.file);
    this.watcher = watch(path.dirname(path.resolve(this.file)), (_event, changed) => {
      if (changed !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload('file changed'), DEBOUNCE_MS);
    });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  reload(reason: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      const { config, problems } = validateConfigFile(this.file);
      if (config === undefined) {
        this.log.error({ reason, problems }, 'config reload refused: the running config stays');
        return;
      }
      try {
        await this.apply(config);
        this.log.info({ reason, consumers: config.consumers.length }, 'config reloaded');
      } catch (error) {
        this.log.error({ err: error, reason }, 'config reload failed: the running config stays');
      }
    });
    return this.chain;
  }
}
