import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'nats';
import { loadConfig } from '../../../config/loader.js';
import { HooksdError } from '../../common/errors.js';
import { subjectForEventType } from '../../common/subjects.js';
import { usageError, type Command } from './command.js';

/** The payload argument: JSON text, or `@file` holding it. */
function readPayload(input: string): unknown {
  let text = input;
  if (input.startsWith('@')) {
    const file = input.slice(1);
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw usageError(`cannot read the payload file ${file}: ${why}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const where = input.startsWith('@') ? ` in ${input.slice(1)}` : '';
    throw usageError(`the payload${where} is not JSON: ${(error as Error).message}`);
  }
}

export const publishCommand: Command = {
  name: 'publish',
  synopsis: 'publish EVENT_TYPE JSON|@file',
  summary: 'publish an event with this payload to the configured stream',
  args: [2, 2],
  async run({ args: [eventType, input], configFile }) {
    const payload = readPayload(input);
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
      const subject = subjectForEventType(eventType, config.nats.subjects);
      const ack = await nc.jetstream().publish(subject, JSON.stringify(envelope), { msgID: id });
      console.log(JSON.stringify({ id, stream: ack.stream, seq: ack.seq }));
      return 0;
    } finally {
      await nc.close();
    }
  },
};
