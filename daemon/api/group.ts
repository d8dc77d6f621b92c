import type { Context } from 'koa';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { ERROR_CODES, HooksdError, type ErrorCode } from '../common/errors.js';
import { ownerTagOf } from '../store/ids.js';
import type { KeyedPage } from '../store/lists.js';
import { seal, unseal } from './group-seal.js';
import { cutPage, mergePages } from './merge-pages.js';
import type { RouteInput } from './route-table.js';

/** An instance of the group, as presence knows it. */
export interface Member {
  id: string;
  /** The tag its ids carry (store/ids.ts). */
  tag: string;
}

/** Who is in the group now, this one included: main wires in ingest's presence (the API does not import ingest). */
export interface Members {
  live(): Member[];
}

/**
 * How a route answers across the group: a list gathers a page from every live instance and
 * merges them; a record whose id names its owner asks the owner first, then the others (a
 * record handed over lives on another instance under the same id); a record without an owner
 * in its id (an event) is asked of every instance in turn.
 */
export type Spread = { kind: 'list' } | { kind: 'owner'; idPrefix: string } | { kind: 'find' };

/** What a route runs on this instance's own store. */
export type Local = (input: RouteInput<unknown, unknown>) => Promise<unknown>;

/** How long an instance waits for another's answer; one that takes longer counts as missing. */
export const ANSWER_WITHIN_MS = 5000;

/** The header (and the page field `missingInstances`) naming the live instances whose records a page lacks. */
export const MISSING_HEADER = 'hooksd-missing-instances';
/** The header naming the instance whose store answered for a record (a lookup, an action). */
export const ANSWERED_BY_HEADER = 'hooksd-answered-by';

interface Call {
  route: string;
  params: Record<string, string>;
  query: unknown;
  body: unknown;
}

type Answer = { ok: unknown } | { error: { code: string; message: string; details: unknown }; notHere?: true };

/**
 * A 404 that says the record asked about is not in this instance's store, so the group asks the
 * next instance; any other error (a 404 about something else, such as an unknown consumer of a
 * replay) is the holder's answer and ends the walk.
 */
export class NotHere extends HooksdError {
  constructor(kind: string, id: string) {
    super('HOOKSD_NOT_FOUND', `no ${kind} with id "${id}"`);
  }
}

/**
 * The API of a group of instances: each answers the others' questions about its own store on
 * its own NATS subject, and asks them in turn, so that any instance answers for the whole
 * group. Alone (no other instance live, or NATS not connected yet) a route runs on the local
 * store only, as a single hooksd does, without a round trip.
 */
export class Group {
  private readonly locals = new Map<string, Local>();
  private nc: NatsConnection | undefined;
  private members: Members | undefined;
  private subjectOf: (instanceId: string) => string = () => '';
  private subscription: Subscription | undefined;

  constructor(
    readonly self: Member,
    private readonly log: Logger,
    /** Seals the questions between instances (group-seal.ts): made from the API tokens, none without. */
    private readonly key: Buffer | undefined = undefined,
    private readonly answerWithinMs = ANSWER_WITHIN_MS,
  ) {}

  /** A route the others may ask this instance about, by `method path`. */
  register(route: string, local: Local): void {
    this.locals.set(route, local);
  }

  /** Answers the others on `subjectOf(self.id)` and asks them on theirs. */
  join(nc: NatsConnection, members: Members, subjectOf: (instanceId: string) => string): void {
    this.nc = nc;
    this.members = members;
    this.subjectOf = subjectOf;
    this.subscription = nc.subscribe(subjectOf(this.self.id), {
      callback: (error, msg) => {
        if (error === null && msg.reply !== undefined) void this.answer(msg);
      },
    });
  }

  /** Stops answering and asking: from now on the routes answer for this instance alone. */
  leave(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.members = undefined;
  }

  /** The other live instances. */
  others(): Member[] {
    if (this.members === undefined || this.nc === undefined || this.nc.isClosed()) return [];
    return this.members.live().filter((member) => member.id !== this.self.id);
  }

  /** Runs a route across the group as `spread` says. */
  async run(route: string, spread: Spread, input: RouteInput<unknown, unknown>, ctx: Context): Promise<unknown> {
    const local = this.locals.get(route) as Local;
    const others = this.others();
    if (others.length === 0) {
      const result = await local(input);
      if (spread.kind === 'list') return withoutKeys(result as KeyedPage<unknown>);
      ctx.set(ANSWERED_BY_HEADER, this.self.id);
      return result;
    }
    const call: Call = { route, params: { ...input.params }, query: input.query, body: input.body };
    if (spread.kind === 'list') return this.gather(call, input, ctx, local, others);
    const tag = spread.kind === 'owner' ? ownerTagOf(input.params.id, spread.idPrefix) : null;
    const { by, result } = await this.route(call, input, local, others, tag);
    ctx.set(ANSWERED_BY_HEADER, by);
    return result;
  }

  /** A list: a page from every live instance, merged. */
  private async gather(call: Call, input: RouteInput<unknown, unknown>, ctx: Context, local: Local, others: Member[]) {
    const [mine, ...theirs] = await Promise.all([local(input), ...others.map((member) => this.ask(member, call))]);
    const pages = [mine as KeyedPage<unknown>];
    const missing: string[] = [];
    theirs.forEach((answer, i) => {
      if (answer !== undefined && 'ok' in answer && isKeyedPage(answer.ok)) pages.push(answer.ok);
      else if (answer !== undefined && 'error' in answer && !unanswered(answer.error.code)) throw errorOf(answer.error);
      else missing.push(others[i].id);
    });
    const page = mergePages(pages, (input.query as { limit: number }).limit);
    if (missing.length === 0) return page;
    ctx.set(MISSING_HEADER, missing.join(','));
    this.log.warn({ route: call.route, missing }, 'a page lacks the records of instances that did not answer in time');
    return { ...page, missingInstances: missing };
  }

  /**
   * A record, or an action on it: the owner (named by the id's tag) first, then this instance,
   * then the others, until one has it. Not found anywhere: 404, or 503 when the owner is not
   * live or an instance did not answer (it may hold the record).
   */
  private async route(
    call: Call,
    input: RouteInput<unknown, unknown>,
    local: Local,
    others: Member[],
    tag: string | null,
  ): Promise<{ by: string; result: unknown }> {
    const owner = tag === null ? undefined : others.find((member) => member.tag === tag);
    const ownerLive = tag === null || tag === this.self.tag || owner !== undefined;
    const order = [...(owner === undefined ? [] : [owner]), this.self, ...others.filter((m) => m !== owner)];
    let notFound: HooksdError | undefined;
    const missing: string[] = [];
    for (const member of order) {
      if (member === this.self) {
        try {
          return { by: member.id, result: await local(input) };
        } catch (error) {
          if (!(error instanceof NotHere)) throw error;
          notFound ??= error;
          continue;
        }
      }
      const answer = await this.ask(member, call);
      if (answer === undefined || ('error' in answer && answer.error.code === 'HOOKSD_ROUTE_NOT_FOUND'))
        missing.push(member.id);
      else if ('ok' in answer) return { by: member.id, result: answer.ok };
      else if ('notHere' in answer) notFound ??= errorOf(answer.error);
      else throw errorOf(answer.error);
    }
    if (ownerLive && missing.length === 0) throw notFound;
    const reasons = [
      ...(ownerLive ? [] : [`the instance that owns it (id tag "${tag}") is not live`]),
      ...(missing.length === 0 ? [] : [`${missing.join(', ')} did not answer in time`]),
    ];
    throw new HooksdError(
      'HOOKSD_OWNER_UNAVAILABLE',
      `"${input.params.id}" is on none of the live instances that answered; ${reasons.join(' and ')}: try again ` +
        'once it is back',
      { ownerTag: tag, missingInstances: missing },
    );
  }

  /** Another instance's answer, or undefined when it gave none in time (stopped, stuck, gone). */
  private async ask(member: Member, call: Call): Promise<Answer | undefined> {
    const nc = this.nc;
    if (nc === undefined || nc.isClosed()) return undefined;
    try {
      const reply = await nc.request(this.subjectOf(member.id), seal(call, this.key), {
        timeout: this.answerWithinMs,
      });
      const answer = JSON.parse(new TextDecoder().decode(reply.data)) as Answer;
      return typeof answer === 'object' && answer !== null && ('ok' in answer || 'error' in answer)
        ? answer
        : undefined;
    } catch (error) {
      this.log.warn({ err: error, instance: member.id, route: call.route }, 'an instance did not answer in time');
      return undefined;
    }
  }

  /** Runs another instance's question on this one's store. */
  private async answer(msg: Msg): Promise<void> {
    let answer: Answer;
    try {
      const call = readCall(unseal(new TextDecoder().decode(msg.data), this.key));
      const local = this.locals.get(call.route);
      if (local === undefined)
        throw new HooksdError('HOOKSD_ROUTE_NOT_FOUND', `this instance does not answer ${call.route} for the group`);
      const result = await local({ params: call.params ?? {}, query: call.query ?? {}, body: call.body });
      answer = { ok: result };
    } catch (error) {
      const coded = error instanceof HooksdError ? error : undefined;
      if (coded === undefined || coded.status >= 500)
        this.log.error({ err: error }, 'could not answer the question of another instance');
      if (coded?.code === 'HOOKSD_UNAUTHORIZED')
        this.log.warn({ reason: coded.message }, 'refused a question from another instance');
      answer =
        coded !== undefined && coded.status < 500
          ? {
              error: { code: coded.code, message: coded.message, details: coded.details ?? null },
              ...(coded instanceof NotHere ? { notHere: true as const } : {}),
            }
          : { error: { code: coded?.code ?? 'HOOKSD_INTERNAL', message: 'internal error', details: null } };
    }
    try {
      msg.respond(this.fit(answer));
    } catch (error) {
      this.log.warn({ err: error }, 'could not answer another instance: the connection is closing');
    }
  }

  /**
   * The answer as NATS can carry it (`max_payload`, 1 MB by default): a page too large is cut
   * (its cursor goes on after the last record kept), anything else too large is an error.
   */
  private fit(answer: Answer): string {
    const max = (this.nc?.info?.max_payload ?? 1024 * 1024) - 1024;
    let text = JSON.stringify(answer);
    if (Buffer.byteLength(text) <= max) return text;
    if ('ok' in answer && isKeyedPage(answer.ok)) {
      let page = answer.ok;
      while (page.data.length > 1 && Buffer.byteLength(text) > max) {
        page = cutPage(page, Math.floor(page.data.length / 2));
        text = JSON.stringify({ ok: page });
      }
      if (Buffer.byteLength(text) <= max) return text;
    }
    this.log.error(
      { bytes: Buffer.byteLength(text), max },
      'an answer to another instance is larger than NATS carries',
    );
    return JSON.stringify({ error: { code: 'HOOKSD_INTERNAL', message: 'internal error', details: null } });
  }
}

function readCall(question: unknown): Call {
  const call = question as Call;
  if (typeof call !== 'object' || call === null || typeof call.route !== 'string')
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'a question must be JSON: {route, params, query, body}');
  return call;
}

function withoutKeys<T>(page: KeyedPage<T>): { data: T[]; nextCursor: string | null } {
  return { data: page.data, nextCursor: page.nextCursor };
}

function isKeyedPage(value: unknown): value is KeyedPage<unknown> {
  const page = value as KeyedPage<unknown>;
  return (
    typeof page === 'object' &&
    page !== null &&
    Array.isArray(page.data) &&
    Array.isArray(page.keys) &&
    page.keys.length === page.data.length &&
    page.keys.every((key) => typeof key === 'string') &&
    (page.nextCursor === null || typeof page.nextCursor === 'string')
  );
}

/** An error that says the instance could not answer (a 5xx, a route it does not know) rather than no. */
const unanswered = (code: string): boolean =>
  code === 'HOOKSD_ROUTE_NOT_FOUND' || !(code in ERROR_CODES) || ERROR_CODES[code as ErrorCode].status >= 500;

/** Another instance's error as this one answers it. */
function errorOf(error: { code: string; message: string; details: unknown }): HooksdError {
  if (!(error.code in ERROR_CODES)) return new HooksdError('HOOKSD_INTERNAL', error.message);
  return new HooksdError(error.code as ErrorCode, error.message, error.details ?? undefined);
}
