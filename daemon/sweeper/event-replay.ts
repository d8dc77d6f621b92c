import { createInbox, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import { ERROR_CODES, HooksdError, type ErrorCode } from '../common/errors.js';
import type { ConsumerRegistry } from '../dispatch/consumers.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { replayEvent, type Replayed } from '../dispatch/replay.js';
import type { Store } from '../store/store.js';

/** How long a replay asked of the group waits for the instance holding the event to answer. */
const ANSWER_WITHIN_MS = 10_000;

interface Question {
  from: string;
  eventId: string;
  consumerIds?: string[];
}

/** An instance's answer: not here, what it replayed, or why it could not. */
type Answer = { found: false } | { found: true; replayed: Replayed } | { found: true; code: string; message: string };

/**
 * Replays an event on the instance whose store holds it. An event and its messages are kept by
 * the instance that took it from NATS, so a replay asked of another instance is asked of the
 * group on a core NATS subject (`hooksd.replay.<stream>`): the holder makes the new messages
 * (its own, carrying its id tag) and answers what it made; the others answer that they do not
 * hold it.
 */
export class EventReplays {
  private subscription: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly instanceId: string,
    private readonly deps: { store: Store; dispatcher: Dispatcher; consumers: ConsumerRegistry },
    /** How many other instances are alive. */
    private readonly others: () => number,
    private readonly log: Logger,
  ) {}

  /** Answers the others' replays from this instance's store. */
  start(): void {
    this.subscription = this.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (error !== null || msg.reply === undefined) return;
        const question = readQuestion(msg.data);
        if (question === undefined || question.from === this.instanceId) return;
        void this.answer(question)
          .then((answer) => msg.respond(JSON.stringify(answer)))
          .catch((err) => this.log.warn({ err, eventId: question.eventId }, 'could not answer a replay of the group'));
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** The replay made by the live instance holding the event, or undefined when none answered that it holds it. */
  async ask(eventId: string, consumerIds?: string[]): Promise<Replayed | undefined> {
    const others = this.others();
    if (others === 0) return undefined;
    const inbox = createInbox();
    const answers = this.nc.subscribe(inbox, { max: others });
    const timer = setTimeout(() => answers.unsubscribe(), ANSWER_WITHIN_MS);
    const question: Question = { from: this.instanceId, eventId, ...(consumerIds ? { consumerIds } : {}) };
    this.nc.publish(this.subject, JSON.stringify(question), { reply: inbox });
    try {
      for await (const msg of answers) {
        let answer: Answer;
        try {
          answer = JSON.parse(new TextDecoder().decode(msg.data));
        } catch {
          continue;
        }
        if (!answer.found) continue;
        if ('replayed' in answer) return answer.replayed;
        const code = answer.code in ERROR_CODES ? (answer.code as ErrorCode) : 'HOOKSD_INTERNAL';
        throw new HooksdError(code, answer.message);
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      answers.unsubscribe();
    }
  }

  private async answer(question: Question): Promise<Answer> {
    const { store, dispatcher, consumers } = this.deps;
    if (!store.isOpen) return { found: false };
    const event = await store.getEvent(question.eventId);
    if (event === undefined) return { found: false };
    try {
      const replayed = await replayEvent(store, dispatcher, consumers, event, question.consumerIds);
      this.log.info(
        { eventId: event.id, messages: replayed.messages.length },
        'replayed an event for another instance',
      );
      return { found: true, replayed };
    } catch (error) {
      const code = error instanceof HooksdError ? error.code : 'HOOKSD_INTERNAL';
      return { found: true, code, message: (error as Error).message };
    }
  }
}

function readQuestion(data: Uint8Array): Question | undefined {
  try {
    const question = JSON.parse(new TextDecoder().decode(data));
    if (typeof question?.from !== 'string' || typeof question.eventId !== 'string') return undefined;
    const ids = question.consumerIds;
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((id: unknown) => typeof id === 'string')))
      return undefined;
    return { from: question.from, eventId: question.eventId, ...(ids ? { consumerIds: ids } : {}) };
  } catch {
    return undefined;
  }
}
