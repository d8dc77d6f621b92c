import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { loadConfig, validateConfigFile } from '../../config/loader.js';
import { HooksdError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { subjectForEventType } from '../common/subjects.js';
import { Pipeline } from '../dispatch/pipeline.js';
import { buildApp } from './app.js';
import { migrateRulesCommand } from './migrate-rules-command.js';
import { ConfigWatcher } from './reload.js';

const USAGE = `usage: hooksd <command> [--config FILE]

commands:
  start                          run the gateway
  validate                       check the config and print every problem
  publish EVENT_TYPE [JSON|@file] publish an event to the configured stream
  migrate-rules FILE [--out FILE] [--allow-unmapped]
                                 turn an export of Codat's legacy rules into consumers

The config is --config FILE, else $HOOKSD_CONFIG, else ./hooks.config.yaml.`;

type Command = (args: string[], configFile: string) => Promise<number>;

const commands: Record<string, Command> = { start, validate, publish };

export async function main(argv: string[]): Promise<number> {
  // It reads no config and parses its own options (--out, --allow-unmapped).
  if (argv[0] === 'migrate-rules') return migrateRulesCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const [name, ...args] = positionals;
  const command = name === undefined ? undefined : commands[name];
  if (values.help || command === undefined) {
    (command === undefined && name !== undefined ? console.error : console.log)(USAGE);
    return values.help ? 0 : 2;
  }
  const configFile = values.config ?? (process.env.HOOKSD_CONFIG || 'hooks.config.yaml');
  try {
    return await command(args, configFile);
  } catch (error) {
    if (error instanceof HooksdError) {
      console.error(`hooksd: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function validate(_args: string[], configFile: string): Promise<number> {
  const { config, problems } = validateConfigFile(configFile);
  if (config === undefined) {
    for (const problem of problems) console.error(problem);
    console.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${configFile}`);
    return 1;
  }
  try {
    await (await Pipeline.load(config, configFile)).stop();
  } catch (error) {
    if (!(error instanceof HooksdError)) throw error;
    console.error(error.message);
    return 1;
  }
  console.log(`${configFile}: valid (${config.consumers.length} consumers, ${config.eventTypes.length} event types)`);
  return 0;
}

async function start(_args: string[], configFile: string): Promise<number> {
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
}

async function publish(args: string[], configFile: string): Promise<number> {
  const [eventType, input = '{}'] = args;
  if (eventType === undefined) {
    console.error('usage: hooksd publish EVENT_TYPE [JSON|@file]');
    return 2;
  }
  const text = input.startsWith('@') ? readFileSync(input.slice(1), 'utf8') : input;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    console.error(`hooksd: the payload is not JSON: ${(error as Error).message}`);
    return 2;
  }
  const config = loadConfig(configFile);
  const servers = config.nats.servers ?? [`nats://127.0.0.1:${config.nats.embeddedPort}`];
  const nc = await connect({ servers: [...servers] }).catch((error: Error) => {
    throw new HooksdError(
      'HOOKSD_NATS_UNAVAILABLE',
      `cannot connect to NATS at ${servers.join(', ')} (is hooksd running?): ${error.message}`,
    );
  });
  try {
    const id = randomUUID();
    const envelope = { id, eventType, generatedDate: new Date().toISOString(), payload };
    const ack = await nc
      .jetstream()
      .publish(subjectForEventType(eventType, config.nats.subjects), JSON.stringify(envelope), { msgID: id });
    console.log(JSON.stringify({ id, stream: ack.stream, seq: ack.seq }));
    return 0;
  } finally {
    await nc.close();
  }
}
