import { readFileSync, writeFileSync } from 'node:fs';
import type { Test } from 'tap';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../config/loader.js';
import { createLogger } from '../../daemon/common/log.js';
import { buildApp, type App } from '../../daemon/main/app.js';
import { apiClient, parseLines, tempDir, writeConfig, type Api } from './hooksd.js';
import { startNats, type TestNats } from './nats.js';
import { recordLog } from './suite-record.js';

export interface InProcess {
  url: string;
  configFile: string;
  app: App;
  api: Api;
  /** The nats-server started for it, when the config named none. */
  nats: TestNats | undefined;
  /** What the app logged so far, as text and as parsed JSON lines. */
  output(): string;
  logs(): Record<string, unknown>[];
  /** Changes the config file as an operator would, and applies it as a reload does. */
  reconfigure(change: (config: Record<string, any>) => Record<string, any>): Promise<void>;
}

/**
 * hooksd built in this process (`buildApp`) from `config` as the real loader reads it: the real
 * LevelDB store in a temporary folder, a real nats-server (unless `config.nats` names one), and
 * the API on a free loopback port (unless `config.server.listen` says otherwise). The log is
 * kept in memory, through hooksd's own logger and its redaction. Stopped when the test ends.
 * For the route-level API cases, which need no process of their own.
 */
export async function startInProcess(t: Test, config: Record<string, any>): Promise<InProcess> {
  const nats = config.nats === undefined ? await startNats(t) : undefined;
  const configFile = await writeConfig(tempDir(t), {
    ...(nats === undefined ? {} : { nats: { servers: [nats.url] } }),
    ...config,
    server: { listen: '127.0.0.1:0', ...config.server },
  });
  const loaded = loadConfig(configFile);
  let output = '';
  const log = createLogger(loaded.log.level, { write: (line: string) => void (output += line) });
  const app = buildApp(loaded, { configFile, log });
  t.teardown(async () => {
    await app.stop();
    recordLog(output);
  });
  const url = await app.start();
  return {
    url,
    configFile,
    app,
    api: apiClient(url),
    nats,
    output: () => output,
    logs: () => parseLines(output),
    async reconfigure(change) {
      writeFileSync(configFile, stringify(change(parse(readFileSync(configFile, 'utf8')))));
      await app.reload(loadConfig(configFile));
    },
  };
}
