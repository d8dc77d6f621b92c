import type { ConsumerMessages, JsMsg } from 'nats';
import type { Logger } from 'pino';
import { HooksdError } from '../common/errors.js';
import type { Metrics } from '../common/metrics.js';
import { eventTypeFromSubject } from '../common/subjects.js';
import type { ConsumerRegistry } from '../dispatch/consumers.js';
import type { Dispatcher, Job } from '../dispatch/dispatcher.js';
import type { Envelope } from '../dispatch/envelope.js';
import { dispatchDue, eventRecord, fanOut } from '../dispatch/messages.js';
import { ownedId } from '../store/ids.js';
import type { DeadLetterRecord } from '../store/records.js';
import type { BatchOp, Store } from '../store/store.js';
import type { EventCatalog } from './catalog.js';
import { consumerLeader, type NatsHandle } from './nats.js';
import { readEnvelope } from './read-envelope.js';

/** Where ingest reads from: fixed until a restart. */
export interface IngestSource {
  stream: string;
  durable: string;
  subjects: readonly string[];
  /** The durable consumer's ack wait (nats.ackWait), in ms. */
  ackWait: number;
}

/** What ingest checks events against; replaced as a whole on reload. */
export interface IngestSettings {
  catalog: EventCatalog;
  /** ingest.unknownTypes: refuse events whose type is not in the catalog, or deliver them. */
  unknownTypes: 'reject' | 'deliver';
}

/** Messages pulled from JetStream per request; the stream consumer's max_ack_pending bounds the rest. */
const PULL_BATCH = 256;
/**
 * Events written in one group commit at most. Each fans out into a message per consumer, so a
 * batch of 256 with ten consumers held some 15,000 operations at once: bigger batches only
 * cost memory (64 took peak RSS at a 1,000,000 backlog from 300 to 244 MB, at the same rate).
 */
const MAX_FLUSH = 64;
const NAK_DELAY_MS = 5000;
/** Messages held unacked at most: four pulls' worth, well below the durable consumer's default max ack pending. */
const MAX_HELD = 4 * PULL_BATCH;

/** What a stored batch brought: messages to start, and how many events were new or refused. */
interface Written {
  jobs: Job[];
  stored: number;
  refused: number;
}

interface Refusal {
  refused: string;
  envelope?: Envelope;
}

/**
 * Reads events from the durable pull consumer. Messages that arrive together are handled as
 * one batch: their events, fan-out messages and dead letters go to LevelDB in one synced
 * write (group commit), and only then are they acked, so an acked event is always on disk.
 * New messages then go straight to the dispatcher; the due index is their durable backstop.
 */
export class Ingest {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private buffer: JsMsg[] = [];
  /** Messages pulled and not yet acked or nak'ed, with when NATS last heard about each. */
  private readonly held = new Map<JsMsg, number>();
  /** Resumes reading once enough of what is held has been acked. */
  private room: (() => void) | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private stopped!: () => void;
  private readonly stopping = new Promise<void>((resolve) => (this.stopped = resolve));
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private readonly typeOf: (subject: string) => string;
  /** Which of some redelivered events another instance of the group has stored (known-elsewhere.ts). */
  knownElsewhere: ((eventIds: string[]) => Promise<Set<string>>) | undefined;

  constructor(
    private readonly nats: NatsHandle,
    private readonly store: Store,
    private readonly consumers: ConsumerRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly source: IngestSource,
    public settings: IngestSettings,
  ) {
    this.typeOf = (subject) => eventTypeFromSubject(subject, source.subjects);
  }

  async start(): Promise<void> {
    await consumerLeader(this.nats.jsm, this.source.stream, this.source.durable);
    const { stream, durable } = this.source;
    const consumer = await this.nats.patiently(`binding the consumer ${durable}`, () =>
      this.nats.js.consumers.get(stream, durable),
    );
    this.messages = await consumer.consume({ max_messages: PULL_BATCH });
    this.loop = this.read(this.messages);
    const every = this.source.ackWait / 3;
    this.keepAlive = setInterval(() => this.stillWorking(every), every);
  }

  /** Stops pulling and waits until everything already pulled is written and acked. */
  async stop(): Promise<void> {
    this.messages?.stop();
    this.room?.();
    this.stopped();
    await this.loop;
    await this.flushing;
    clearInterval(this.keepAlive);
  }

  /**
   * Takes what NATS delivers, but holds at most MAX_HELD messages unacked: beyond that it stops
   * reading, so the client stops pulling. Then a crash strands at most that many until the ack
   * wait runs out, well below the durable consumer's max ack pending, and a restarted hooksd
   * (or another instance) gets new events at once instead of waiting for those.
   */
  private async read(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      this.held.set(msg, Date.now());
      this.buffer.push(msg);
      this.scheduleFlush();
      if (this.held.size >= MAX_HELD) await new Promise<void>((resolve) => (this.room = resolve));
      // Nothing can be stored: stop pulling until the store works again (what is held goes back to NATS).
      if (!this.store.health.healthy) await Promise.race([this.store.health.whenHealthy(), this.stopping]);
    }
  }

  /** Acks or naks a batch and lets reading go on once half of what may be held is free again. */
  private settle(batch: JsMsg[], outcome: 'ack' | 'nak'): void {
    for (const msg of batch) {
      if (outcome === 'ack') msg.ack();
      else msg.nak(NAK_DELAY_MS);
      this.held.delete(msg);
    }
    if (this.held.size <= MAX_HELD / 2 && this.room !== undefined) {
      const resume = this.room;
      this.room = undefined;
      resume();
    }
  }

  /** Tells NATS it is still working on the messages held for a while (a slow disk), so they are not sent again. */
  private stillWorking(after: number): void {
    const now = Date.now();
    for (const [msg, since] of this.held) {
      if (now - since < after) continue;
      msg.working();
      this.held.set(msg, now);
    }
  }

  /**
   * Queues a flush after the ones in progress. A flush handles its own failures; the catch
   * only keeps the queue going should one ever throw, since a rejected link would stop every
   * later flush.
   */
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flushing = this.flushing
        .then(() => this.flush())
        .catch((error) => this.log.error({ err: error }, 'ingest flush failed; NATS redelivers what it held'));
    });
  }

  /**
   * Writes up to MAX_FLUSH buffered events with their fan-out and dead letters in one synced
   * write, then acks them and hands the new messages to the dispatcher. When anything before
   * the ack fails, the whole batch is nak'ed: NATS redelivers it and nothing is lost.
   */
  private async flush(): Promise<void> {
    const batch = this.buffer.splice(0, MAX_FLUSH);
    if (batch.length === 0) return;
    if (this.buffer.length > 0) this.scheduleFlush();
    if (!this.store.health.healthy) {
      this.settle(batch, 'nak');
      return;
    }
    let written: Written;
    try {
      written = await this.write(batch);
    } catch (error) {
      this.log.error({ err: error, count: batch.length }, 'could not store events; NATS redelivers them');
      this.settle(batch, 'nak');
      return;
    }
    this.settle(batch, 'ack');
    this.metrics.eventsIngested.inc(written.stored);
    this.metrics.deadLetters.inc(written.refused);
    dispatchDue(this.dispatcher, written.jobs);
  }

  /** Stores a batch: refused messages as dead letters, new events with one message per consumer. */
  private async write(batch: JsMsg[]): Promise<Written> {
    const receivedAt = Date.now();
    const accepted: { msg: JsMsg; envelope: Envelope }[] = [];
    const ops: BatchOp[] = [];
    let refused = 0;
    for (const msg of batch) {
      const result = this.check(msg);
      if ('refused' in result) {
        ops.push(...this.store.deadLetterOps(this.deadLetter(msg, result, receivedAt)));
        refused += 1;
      } else {
        accepted.push({ msg, envelope: result });
      }
    }
    const known = await this.store.existingEventIds(accepted.map((a) => a.envelope.id));
    // An event delivered again may have been stored by another instance, whose ack was lost.
    const again = accepted.filter((a) => a.msg.redelivered && !known.has(a.envelope.id)).map((a) => a.envelope.id);
    if (again.length > 0 && this.knownElsewhere !== undefined)
      for (const id of await this.knownElsewhere(again)) known.add(id);
    const jobs: Job[] = [];
    let stored = 0;
    for (const { envelope, msg } of accepted) {
      if (known.has(envelope.id)) continue;
      known.add(envelope.id);
      stored += 1;
      const { ops: eventOps, jobs: eventJobs } = fanOut(
        this.store,
        this.consumers.forEventType(envelope.eventType),
        envelope,
        eventRecord(envelope, msg.subject, receivedAt),
      );
      ops.push(...eventOps);
      jobs.push(...eventJobs);
    }
    await this.store.write(ops, true);
    return { jobs, stored, refused };
  }

  /** The envelope, or why the message is refused (with the envelope, when it could be read). */
  private check(msg: JsMsg): Envelope | Refusal {
    let envelope: Envelope;
    try {
      envelope = readEnvelope(msg, this.typeOf);
    } catch (error) {
      if (error instanceof HooksdError && error.code === 'HOOKSD_EVENT_INVALID') return { refused: error.message };
      throw error;
    }
    const { catalog, unknownTypes } = this.settings;
    const refusal = catalog.judge(envelope.eventType, envelope.view.payload, unknownTypes);
    return refusal === null ? envelope : { refused: refusal.reason, envelope };
  }

  private deadLetter(msg: JsMsg, { refused: reason, envelope }: Refusal, receivedAt: number): DeadLetterRecord {
    let data: string;
    let encoding: 'utf8' | 'base64' = 'utf8';
    try {
      data = new TextDecoder('utf-8', { fatal: true }).decode(msg.data);
    } catch {
      data = Buffer.from(msg.data).toString('base64');
      encoding = 'base64';
    }
    // Each name becomes an own property: assigning headers[name] would make a "__proto__" header the
    // object's prototype, and the dead letter would lose it.
    const headers: Record<string, string[]> = Object.fromEntries(msg.headers ?? []);
    this.log.warn(
      { subject: msg.subject, streamSequence: msg.seq, reason },
      'event refused: kept in the dead-letter log',
    );
    return {
      id: ownedId('dlq_', receivedAt),
      receivedAt,
      subject: msg.subject,
      reason,
      data,
      encoding,
      headers,
      streamSequence: msg.seq,
      eventId: envelope?.id,
      eventType: envelope?.eventType,
    };
  }
}
