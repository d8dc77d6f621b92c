import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import t from 'tap';
import type { DeadLetterRecord, EventRecord } from '../../daemon/store/records.js';
import type { Store } from '../../daemon/store/store.js';
import { outgoing, type Outgoing } from '../helpers/fuzz-envelopes.js';
import { eventIdOf } from '../helpers/gateway.js';
import { fuzzParameters, Tally } from '../helpers/fuzz.js';
import { prototypeChanges, prototypeSnapshot } from '../helpers/hostile-json.js';
import { eventually, natsClient } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';
import { watchAcks } from '../helpers/jetstream-acks.js';
import { startReceiver } from '../helpers/receiver.js';

const STREAM = 'HOOKS_EVENTS';
const DURABLE = 'hooksd';
const RUNS = 10_000;

/** Every record of a list, page by page. */
async function countAll(
  list: (query: { limit: number; cursor?: string }) => Promise<{ nextCursor: string | null; data: unknown[] }>,
) {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 250, ...(cursor === undefined ? {} : { cursor }) });
    count += page.data.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return count;
}

/** The JSON in a message, when it is JSON. */
function parsed(message: Outgoing): any {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message.data));
  } catch {
    return undefined;
  }
}

/** The dead letter keeps the message as it came: its bytes, and each header. */
function checkDeadLetter(letter: DeadLetterRecord, message: Outgoing): void {
  const kept = Buffer.from(letter.data, letter.encoding === 'base64' ? 'base64' : 'utf8');
  if (!kept.equals(Buffer.from(message.data))) throw new Error(`the dead letter's data differs from the message`);
  for (const [name, value] of message.headers) {
    const values = Object.hasOwn(letter.headers, name) ? letter.headers[name] : undefined;
    if (!Array.isArray(values) || !values.includes(value.trim()))
      throw new Error(`the dead letter lost the header ${JSON.stringify(name)}: ${JSON.stringify(letter.headers)}`);
  }
}

/** The stored event of a valid envelope carries its payload unchanged, prototype keys and all. */
function checkStored(event: EventRecord, message: Outgoing): void {
  if (!isDeepStrictEqual(JSON.parse(event.body).payload, parsed(message).payload))
    throw new Error(`event ${event.id} was stored with another payload: ${event.body.slice(0, 500)}`);
}

const newest = async <T>(list: (query: { limit: number }) => Promise<{ data: T[] }>) =>
  (await list({ limit: 1 })).data[0];

t.test('fuzz - hostile NATS messages: each is stored or dead-lettered, and hooksd still delivers', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    // Unknown types are stored and fanned out too, so hostile payloads reach the consumer's filter.
    ingest: { unknownTypes: 'deliver' },
    eventTypes: [
      { name: 'fuzz.good' },
      {
        name: 'fuzz.checked',
        schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' }, tags: { type: 'array' } } },
      },
    ],
    consumers: [{ id: 'sink', url: receiver.url, eventTypes: ['*'], filter: { 'payload.kind': 'good' } }],
  });
  const store: Store = hooksd.app.store;
  const nc = await natsClient(t, hooksd.nats!.url);
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const acks = await watchAcks(nc, STREAM, DURABLE);
  t.teardown(() => acks.stop());
  const prototypes = prototypeSnapshot();
  const tally = new Tally();
  const natsRefusals = new Set<string>();
  const reasons = new Tally();
  const started = Date.now();
  let tried = 0;

  const property = fc.asyncProperty(outgoing, async (message) => {
    tried += 1;
    tally.add(`kind ${message.kind}`);
    const json = parsed(message);
    const header = message.headers.find(([name]) => name === 'Nats-Msg-Id')?.[1].trim();
    const candidateId: unknown = (json !== null && typeof json === 'object' ? json.id : undefined) ?? header;
    const existed = typeof candidateId === 'string' && (await store.getEvent(candidateId)) !== undefined;
    // Without an id of its own, an event is told by being the newest, and a new one.
    const newestBefore = typeof candidateId === 'string' ? undefined : (await newest((q) => store.lists.events(q)))?.id;

    let headers: MsgHdrs | undefined;
    if (message.headers.length > 0) {
      headers = natsHeaders();
      for (const [name, value] of message.headers) headers.append(name, value);
    }
    let seq: number;
    try {
      const ack = await js.publish(message.subject, message.data, { headers });
      if (ack.duplicate) return void tally.add('duplicate on NATS');
      seq = ack.seq;
    } catch (error) {
      // NATS itself refused the message: hooksd never sees it. Counted, and the reasons shown.
      if (nc.isClosed()) throw error;
      natsRefusals.add((error as Error).message);
      return void tally.add('refused by NATS');
    }
    tally.add('published');

    if ((await acks.settled(seq, 30_000)) !== 'ack') {
      // Taken out of the stream, so that it does not come back into the runs that follow.
      await jsm.streams.deleteMessage(STREAM, seq);
      const failures = hooksd.logs().filter((line) => line.msg === 'could not store events; NATS redelivers them');
      const failure = failures[failures.length - 1];
      throw new Error(`hooksd did not ack stream message ${seq}: ${JSON.stringify(failure?.err ?? null)}`);
    }
    const changes = prototypeChanges(prototypes);
    if (changes.length > 0) throw new Error(`prototypes changed: ${changes.join(', ')}`);

    const letter = await newest((q) => store.lists.deadLetters(q));
    if (letter?.streamSequence === seq) {
      if (message.kind === 'good') throw new Error(`a valid envelope was dead-lettered: ${letter.reason}`);
      checkDeadLetter(letter, message);
      reasons.add(letter.reason.replace(/ \(got .*|: .*/s, ''));
      return void tally.add('dead letters');
    }
    const event =
      typeof candidateId === 'string'
        ? await store.getEvent(candidateId)
        : await newest((q) => store.lists.events(q)).then((e) => (e?.id !== newestBefore ? e : undefined));
    if (event === undefined || (!existed && event.subject !== message.subject))
      throw new Error(`stream message ${seq} is neither a dead letter nor a stored event`);
    if (message.kind === 'good' && !existed) checkStored(event, message);
    tally.add(existed ? 'duplicate events' : 'events');
  });
  const parameters = fuzzParameters<[Outgoing]>(t, RUNS);
  try {
    await fc.assert(property, parameters);
  } finally {
    t.comment(`${tried} cases tried in ${((Date.now() - started) / 1000).toFixed(1)} s: ${tally}`);
    t.comment(`dead letters by reason: ${reasons}`);
    if (natsRefusals.size > 0) t.comment(`NATS refused: ${[...natsRefusals].join('; ')}`);
  }

  const published = tally.get('published');
  t.equal((await jsm.streams.info(STREAM)).state.messages, published, 'the stream holds every message published');
  t.equal(
    tally.get('events') + tally.get('duplicate events') + tally.get('dead letters'),
    published,
    'each message ended as an event, a duplicate of one, or a dead letter',
  );
  t.equal(await countAll((q) => store.lists.events(q)), tally.get('events'), 'the store holds each new event');
  t.equal(await countAll((q) => store.lists.deadLetters(q)), tally.get('dead letters'), 'and each dead letter');
  t.ok(tally.get('refused by NATS') <= tried / 100, 'NATS itself refused few of them');
  t.same(prototypeChanges(prototypes), [], 'no prototype was changed');
  t.equal((await hooksd.api('/readyz')).status, 200, 'hooksd is ready');

  const id = `after-the-fuzz-${randomUUID()}`;
  await js.publish('events.fuzz.good', JSON.stringify({ id, payload: { kind: 'good' } }));
  const delivered = await eventually(
    () => receiver.received.find((r) => eventIdOf(r) === id),
    60_000,
    'the good event published last to be delivered',
  );
  t.match(
    JSON.parse(delivered.body.toString()),
    { id, eventType: 'fuzz.good', payload: { kind: 'good' } },
    'a good event published after the fuzz is delivered, as it was published',
  );
});
