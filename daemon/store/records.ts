/** The records hooksd keeps in LevelDB, as the API shows them (secrets excepted). */

export type MessageStatus = 'sending' | 'attempting' | 'success' | 'failure' | 'cancelled' | 'skipped';

/** How many messages have each status. */
export type StatusCounts = Partial<Record<MessageStatus, number>>;
export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'sending',
  'attempting',
  'success',
  'failure',
  'cancelled',
  'skipped',
];

/** `transform`: a transform plugin failed before anything was sent. */
export type ErrorClass = 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'http' | 'transform';

export interface EventRecord {
  id: string;
  eventType: string;
  generatedDate: string;
  /** When hooksd received it (ms since epoch). */
  receivedAt: number;
  /** Sortable ingest key: orders events by reception in the time index. */
  seq: string;
  subject: string;
  /** The envelope exactly as it is delivered. */
  body: string;
  /**
   * The ids of the messages made with the event that were written in its fan-out record
   * (fanouts.ts) and have no entry in the event's message index: the event lists them.
   */
  fanout?: string[];
}

/** An event's messages due at once, written as one record at ingest (fanouts.ts). */
export interface FanoutRecord {
  eventId: string;
  messages: MessageRecord[];
}

export interface MessageRecord {
  id: string;
  eventId: string;
  consumerId: string;
  eventType: string;
  status: MessageStatus;
  createdAt: number;
  updatedAt: number;
  attempts: number;
  /** How many of the attempts were manual (resends), which do not move the schedule on. */
  manualAttempts?: number;
  /** When the next scheduled attempt is due, or null when none is. */
  nextAttemptAt: number | null;
  lastStatusCode?: number;
  lastError?: string;
  /** Set when the message was cancelled through the API (POST /v1/messages/:id/cancel). */
  cancelledAt?: number;
  cancelReason?: string;
}

export interface AttemptRecord {
  messageId: string;
  attempt: number;
  trigger: 'scheduled' | 'manual';
  startedAt: number;
  durationMs: number;
  /** got's phase timings in ms (wait, dns, tcp, tls, request, firstByte, download, total). */
  timings: Record<string, number | undefined>;
  /** `body` is left out when it is the event's envelope, which the event record already holds. */
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: {
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
    truncated: boolean;
  };
  outcome: 'success' | 'failure';
  errorClass?: ErrorClass;
  error?: string;
}

export interface DeadLetterRecord {
  id: string;
  receivedAt: number;
  subject: string;
  reason: string;
  /** The message body as received: UTF-8 text, or base64 when it was not valid UTF-8. */
  data: string;
  encoding: 'utf8' | 'base64';
  headers: Record<string, string[]>;
  streamSequence?: number;
  eventId?: string;
  eventType?: string;
  /** Set once the dead letter was ingested after all (POST /v1/dead-letters/:id/redrive): when, as which event. */
  redrivenAt?: number;
  redrivenEventId?: string;
}

/** What hooksd learnt about a consumer at run time; survives restarts. */
export interface ConsumerState {
  /** Set by the API or by health checks; overrides the config's `disabled` while present. */
  disabled?: boolean;
  disabledReason?: string;
  changedAt?: number;
  /** Time of the first failed attempt since the last success; null while healthy. */
  failingSince?: number | null;
}

/** A signing secret; during a rotation's grace period the old one carries an expiry. */
export interface StoredSecret {
  secret: string;
  expiresAt: number | null;
}

/**
 * The secrets hooksd keeps for a consumer: generated ones, and those made by rotation.
 * `configSecretHash` is the digest of the YAML secret a rotation replaced: when the YAML
 * secret changes again (a rotation done in git), the YAML wins over this record.
 */
export interface SecretRecord {
  secrets: StoredSecret[];
  configSecretHash: string | null;
}

export type TaskKind = 'recover' | 'replay-missing';

/** How far a task, or one instance's part of it, has got. */
export interface TaskProgress {
  status: 'running' | 'done' | 'failed';
  updatedAt: number;
  finishedAt: number | null;
  /** Index key of the last record looked at: a resumed task or part carries on after it. */
  position: string | null;
  /** Messages handed over whose attempt had not finished when it was last saved. */
  pending: string[];
  /** Records looked at: the consumer's messages (recover) or events (replay-missing). */
  examined: number;
  /** Messages resent (recover) or created (replay-missing). */
  sent: number;
  error: string | null;
}

/** A bulk task as stored and as the API shows it. */
export interface TaskRecord extends TaskProgress {
  id: string;
  kind: TaskKind;
  consumerId: string;
  since: number;
  until: number | null;
  createdAt: number;
  /**
   * The instance that made it (instance.id). A task made before tasks ran on every instance
   * (no `instances`) ran there only, with its progress in the fields above.
   */
  instance?: string;
  /**
   * The live instances when it was made: each runs its part over the records of its own store
   * and saves its progress as a TaskPartRecord; the progress fields above stay as made.
   */
  instances?: string[];
}

/** One instance's part of a task, over the records of that instance's store: `parts.<taskId>/<instance>`. */
export interface TaskPartRecord extends TaskProgress {
  taskId: string;
  instance: string;
  startedAt: number;
}

/** What an instance publishes about its config file, so that instances can tell they read different ones. */
export interface YamlDigestRecord {
  /** SHA-256 of the config file's consumers, as loaded. */
  digest: string;
  consumers: number;
  /** When the instance last said so: records not renewed for a while are of instances gone. */
  at: number;
}

/**
 * A consumer created through the API: its settings as the API validated them (the config
 * file's consumer fields). The store keeps them as they are given.
 */
export interface ApiConsumerRecord {
  readonly id: string;
}

/** The last failed attempt of a consumer, as delivery stats keep it (its error carries no credential). */
export interface DeliveryError {
  at: number;
  messageId: string;
  statusCode: number | null;
  errorClass: string | null;
  error: string | null;
}

/**
 * One consumer's attempts in one minute, as the delivery stats keep them
 * (dispatch/delivery-stats.ts): counts by outcome, attempt durations as `[bucket, count]`
 * pairs of a fixed histogram (dispatch/latency-histogram.ts), and the minute's last failure.
 */
export interface DeliveryMinuteRecord {
  consumerId: string;
  /** The minute's start, ms since the epoch. */
  minute: number;
  success: number;
  failure: number;
  latency: [number, number][];
  lastError: DeliveryError | null;
}
