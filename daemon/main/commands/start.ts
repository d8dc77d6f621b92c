import { loadConfig } from '../../../config/loader.js';
import { createLogger } from '../../common/log.js';
import { buildApp } from '../app.js';
import { ConfigWatcher } from '../reload.js';
import type { Command } from './command.js';

export const startCommand: Command = {
  name: 'start',
  synopsis: 'start',
  summary: 'run the gateway (SIGTERM drains and stops, SIGHUP reloads the config)',
  args: [0, 0],
  async run({ configFile }) {
    const config = loadConfig(configFile);
    const log = createLogger(config.log.level);
    const app = buildApp(config, { configFile, log });
    let stopping = false;
    const stopped = new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        log.info({ signal }, 'draining');
        app.stop().then(resolve, (error) => {
          log.error({ err: error }, 'shutdown failed');
          resolve();
        });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
    const watcher = new ConfigWatcher(configFile, (next) => app.reload(next), log);
    process.on('SIGHUP', () => void watcher.reload('SIGHUP'));
    try {
      await app.start();
      watcher.start();
    } catch (error) {
      // A signal while waiting for NATS is a stop, not a failure.
      if (stopping) {
        await stopped;
        return 0;
      }
      log.error({ err: error }, 'start-up failed');
      await app.stop().catch(() => undefined);
      throw error;
    }
    await stopped;
    watcher.stop();
    return 0;
  },
};
