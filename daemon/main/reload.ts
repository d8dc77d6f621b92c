import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { validateConfigFile } from '../../config/loader.js';
import type { HooksdConfig } from '../../config/schema.js';

const DEBOUNCE_MS = 200;

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
