import { createInbox, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Presence } from './presence.js';

/**
 * How long a question waits for the live instances' answers; one that does not answer in time is
 * taken as "no". Only redelivered events wait for it, so it can be generous: a busy instance
 * answers late, and a late answer means a second message, under another webhook-id.
 */
const ANSWER_WITHIN_MS = 5000;

interface Question {
  from: string;
  ids: string[];
}

/**
 * Asks the other live instances which of some event ids they have stored. NATS delivers an
 * event again when its acknowledgement was lost (a nats-server died with it, an instance was
 * killed before it acked): within one instance the event id finds it stored, and across
 * instances this question does, so the event is not delivered a second time under other
 * webhook-ids. Only redelivered events are asked about, so the normal path costs nothing.
 */
export class KnownElsewhere {
  private subscription: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly instanceId: string,
    private readonly store: Store,
    private readonly presence: Presence,
    private readonly log: Logger,
  ) {}

  /** Answers the others' questions from this instance's store. */
  start(): void {
    this.subscription = this.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (error !== null || msg.reply === undefined) return;
        const question = readQuestion(msg.data);
        if (question === undefined || question.from === this.instanceId || !this.store.isOpen) return;
        void this.store
          .existingEventIds(question.ids)
          .then((found) => msg.respond(JSON.stringify([...found])))
          .catch((err) => this.log.warn({ err }, 'could not answer which events are stored here'));
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Which of `ids` another live instance has stored; the ones no instance answered for count as not stored. */
  async which(ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const others = this.presence.others();
    if (ids.length === 0 || others === 0) return found;
    const inbox = createInbox();
    const answers = this.nc.subscribe(inbox, { max: others });
    const timer = setTimeout(() => answers.unsubscribe(), ANSWER_WITHIN_MS);
    const question: Question = { from: this.instanceId, ids };
    this.nc.publish(this.subject, JSON.stringify(question), { reply: inbox });
    for await (const answer of answers) {
      try {
        for (const id of JSON.parse(new TextDecoder().decode(answer.data)) as string[]) found.add(id);
      } catch {
        // an answer that cannot be read says nothing
      }
    }
    clearTimeout(timer);
    return found;
  }
}

function readQuestion(data: Uint8Array): Question | undefined {
  try {
    const question = JSON.parse(new TextDecoder().decode(data));
    const valid = typeof question?.from === 'string' && Array.isArray(question.ids);
    return valid
      ? { from: question.from, ids: question.ids.filter((id: unknown) => typeof id === 'string') }
      : undefined;
  } catch {
    return undefined;
  }
}
