import { AckPolicy, DeliverPolicy, RetentionPolicy, nanos, type ConsumerMessages, type JsMsg } from 'nats';
import type { Logger } from 'pino';
import { handoverStream, handoverSubject } from '../common/subjects.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { dispatchDue } from '../dispatch/messages.js';
import type { AttemptRecord, EventRecord, MessageRecord } from '../store/records.js';
import type { BatchOp, Store } from '../store/store.js';
import { consumerLeader, type NatsHandle } from './nats.js';

/** One pending retry as it travels from a stopping instance to a live one: enough to carry on where it was. */
export interface HandedOver {
  from: string;
  event: EventRecord;
  message: MessageRecord;
  attempts: AttemptRecord[];
}

/** Where hand-overs travel, fixed until a restart. */
export interface HandoverSource {
  stream: string;
  durable: string;
  replicas: number;
}

/** Items taken over at once: their writes merge into a few group commits. */
const TAKE_AT_ONCE = 64;
/** Retries handed over at once (publishes awaiting their acks). */
const HAND_AT_ONCE = 64;
const ACK_WAIT_MS = 30_000;
const NAK_DELAY_MS = 5000;

/**
 * Moves pending retries between the instances of a group. A stopping instance publishes each
 * message that waits for a retry (with its event and attempts) to a JetStream work-queue
 * stream and deletes it locally only once JetStream has acknowledged the publish; every
 * instance reads that stream with one durable consumer, so each item goes to one of them,
 * which records the message under the same id (the same webhook-id, so receivers can tell a
 * repeat) and delivers it on its schedule. An item stays in the stream until an instance has
 * written it: with none alive, the first to start takes it.
 */
export class Handover {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly subject: string;
  private readonly stream: string;
  private readonly durable: string;
  private ready = false;

  constructor(
    private readonly nats: NatsHandle,
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly instanceId: string,
    private readonly source: HandoverSource,
  ) {
    this.subject = handoverSubject(source.stream);
    this.stream = handoverStream(source.stream);
    this.durable = `${source.durable}_handover`;
  }

  private starting: Promise<void> = Promise.resolve();

  /**
   * Creates the hand-over stream and consumer when missing and starts taking items over, in
   * the background: a few JetStream requests that a busy server may answer slowly, and nothing
   * that readiness needs to wait for.
   */
  start(): void {
    this.starting = this.setUp().catch((error) =>
      this.log.warn({ reason: (error as Error).message }, 'cannot take hand-overs from other instances'),
    );
  }

  private async setUp(): Promise<void> {
    const { jsm, js } = this.nats;
    try {
      await jsm.streams.info(this.stream).catch(async (error) => {
        if (!/not found/i.test((error as Error).message ?? '')) throw error;
        await jsm.streams.add({
          name: this.stream,
          subjects: [this.subject],
          retention: RetentionPolicy.Workqueue,
          num_replicas: this.source.replicas,
        });
        this.log.info({ stream: this.stream }, 'created the stream instances hand their pending retries over on');
      });
      await jsm.consumers.info(this.stream, this.durable).catch(async (error) => {
        if (!/not found/i.test((error as Error).message ?? '')) throw error;
        await jsm.consumers.add(this.stream, {
          durable_name: this.durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(ACK_WAIT_MS),
        });
      });
    } catch (error) {
      this.log.warn(
        { stream: this.stream, reason: (error as Error).message },
        'cannot set up the hand-over stream: on SIGTERM this instance keeps its pending retries',
      );
      return;
    }
    await consumerLeader(jsm, this.stream, this.durable);
    const consumer = await js.consumers.get(this.stream, this.durable);
    this.messages = await consumer.consume({ max_messages: TAKE_AT_ONCE });
    this.loop = this.takeAll(this.messages);
    this.ready = true;
  }

  /** Stops taking items over; what was pulled and not written goes back to the others after the ack wait. */
  async stop(): Promise<void> {
    await this.starting;
    this.messages?.stop();
    await this.loop;
  }

  /**
   * Hands every pending retry over, until `deadline` (ms since the epoch): each is claimed from
   * the dispatcher (one in flight stays), published, and deleted here once JetStream has
   * acknowledged it. Call after the dispatcher stopped. Resolves to how many went, and how many
   * stayed because their attempt was in flight or their publish failed.
   */
  async handOver(deadline: number): Promise<{ handed: number; kept: number }> {
    let handed = 0;
    let kept = 0;
    if (!this.ready) return { handed, kept: this.store.countStatus('attempting') + this.store.countStatus('sending') };
    const maxPayload = this.nats.nc.info?.max_payload ?? 1024 * 1024;
    let after: string | null = null;
    while (Date.now() < deadline) {
      const keys = await this.store.due.everyKey(after, HAND_AT_ONCE);
      if (keys.length === 0) break;
      after = keys[keys.length - 1];
      const deletes: BatchOp[] = [];
      await Promise.all(
        (await this.store.due.messagesOf(keys)).map(async ({ message }) => {
          if (message === undefined) return;
          // An attempt still in flight (past the shutdown timeout): its message stays here.
          if (!this.dispatcher.claim(message)) {
            kept += 1;
            return;
          }
          try {
            if (!(await this.publish(message, maxPayload))) {
              kept += 1;
              return;
            }
            deletes.push(...(await this.store.messageDeleteOps(message)));
            handed += 1;
          } catch (error) {
            kept += 1;
            this.log.warn({ messageId: message.id, reason: (error as Error).message }, 'could not hand a retry over');
          }
        }),
      );
      await this.store.write(deletes, true);
    }
    if (Date.now() >= deadline && (await this.store.due.everyKey(after, 1)).length > 0)
      this.log.warn('shutdown timeout: the retries not handed over yet stay here until this instance starts again');
    return { handed, kept };
  }

  /** Publishes a retry with its event and attempts; false (it stays here) when its event is not in the store. */
  private async publish(message: MessageRecord, maxPayload: number): Promise<boolean> {
    const event = await this.store.getEvent(message.eventId);
    if (event === undefined) {
      this.log.warn({ messageId: message.id, eventId: message.eventId }, 'a retry whose event is gone stays here');
      return false;
    }
    const item: HandedOver = {
      from: this.instanceId,
      event,
      message,
      attempts: await this.store.attemptsOf(message.id),
    };
    let data = JSON.stringify(item);
    // Too big with the recorded requests and responses: the attempts go without their bodies.
    if (Buffer.byteLength(data) > maxPayload - 4096) {
      item.attempts = item.attempts.map(withoutBodies);
      data = JSON.stringify(item);
    }
    await this.nats.js.publish(this.subject, data, { timeout: 10_000 });
    return true;
  }

  private async takeAll(messages: ConsumerMessages): Promise<void> {
    const taking = new Set<Promise<void>>();
    for await (const msg of messages) {
      const take = this.take(msg).finally(() => taking.delete(take));
      taking.add(take);
      if (taking.size >= TAKE_AT_ONCE) await Promise.race(taking);
    }
    await Promise.all(taking);
  }

  /** Records a handed-over retry (unless it is here already) and acks it; on a failed write NATS sends it again. */
  private async take(msg: JsMsg): Promise<void> {
    const item = readItem(msg.data);
    if (item === undefined) {
      this.log.error({ streamSequence: msg.seq }, 'an unreadable hand-over item: dropped');
      msg.term();
      return;
    }
    const { event, message, attempts, from } = item;
    try {
      if ((await this.store.getMessage(message.id)) !== undefined) {
        msg.ack();
        return;
      }
      const ops: BatchOp[] = [];
      if ((await this.store.getEvent(event.id)) === undefined) ops.push(...this.store.eventOps(event));
      ops.push(...this.store.newMessageOps(message));
      for (const attempt of attempts ?? []) ops.push(...this.store.attemptOps(attempt));
      await this.store.write(ops, true);
    } catch (error) {
      this.log.error(
        { err: error, messageId: message.id },
        'could not record a handed-over retry; NATS sends it again',
      );
      msg.nak(NAK_DELAY_MS);
      return;
    }
    msg.ack();
    this.log.debug({ messageId: message.id, from }, 'took a retry over');
    dispatchDue(this.dispatcher, [{ message, body: event.body, trigger: 'scheduled' }]);
  }
}

function readItem(data: Uint8Array): HandedOver | undefined {
  try {
    const item = JSON.parse(new TextDecoder().decode(data));
    return typeof item?.message?.id === 'string' && typeof item?.event?.id === 'string' ? item : undefined;
  } catch {
    return undefined;
  }
}

function withoutBodies(attempt: AttemptRecord): AttemptRecord {
  const { body: _request, ...request } = attempt.request;
  const response = attempt.response && { ...attempt.response, body: '', truncated: true };
  return { ...attempt, request, ...(response ? { response } : {}) };
}
