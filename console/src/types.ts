/** The records of the API the console shows, as docs/api.md describes them. */

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const MESSAGE_STATUSES = ['sending', 'attempting', 'success', 'failure', 'cancelled', 'skipped'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface Consumer {
  id: string;
  url: string;
  description: string;
  source: 'yaml' | 'api';
  eventTypes: string[];
  filter: Record<string, unknown> | null;
  transform: string | null;
  disabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  headers: string[];
  rateLimit: number | null;
  concurrency: number;
  timeoutMs: number;
  retryScheduleMs: number[];
  activeSecrets: number;
}

export interface Message {
  id: string;
  eventId: string;
  consumerId: string;
  eventType: string;
  status: MessageStatus;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  manualAttempts?: number;
  nextAttemptAt: string | null;
  lastStatusCode?: number;
  lastError?: string;
  cancelledAt?: string;
  cancelReason?: string;
}

export interface Attempt {
  messageId: string;
  attempt: number;
  trigger: 'scheduled' | 'manual';
  startedAt: string;
  durationMs: number;
  timings: Record<string, number>;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { statusCode: number; headers: Record<string, string | string[]>; body: string; truncated: boolean };
  outcome: 'success' | 'failure';
  errorClass?: string;
  error?: string;
}

export interface EventRecord {
  id: string;
  eventType: string;
  generatedDate: string;
  receivedAt: string;
  subject: string;
  envelope: Record<string, unknown>;
}

export interface EventWithMessages extends EventRecord {
  messages: Message[];
}

export interface EventType {
  name: string;
  description: string;
  schema: Record<string, unknown> | null;
  example: unknown;
}

export interface DeadLetter {
  id: string;
  receivedAt: string;
  subject: string;
  reason: string;
  data: string;
  encoding: 'utf8' | 'base64';
  headers: Record<string, string[]>;
  streamSequence?: number;
  eventId?: string;
  eventType?: string;
  redrivenAt?: string;
  redrivenEventId?: string;
}

export interface Task {
  id: string;
  kind: 'recover' | 'replay-missing';
  consumerId: string;
  since: string;
  until: string | null;
  status: 'running' | 'done' | 'failed';
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  examined: number;
  sent: number;
  error: string | null;
  /** Each instance's part (absent from a hooksd older than group tasks). */
  parts?: TaskPart[];
}

export interface TaskPart {
  instance: string;
  status: 'waiting' | 'running' | 'done' | 'failed';
  live: boolean;
  startedAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
  examined: number;
  sent: number;
  error: string | null;
}

export interface Instance {
  id: string;
  tag: string;
  self: boolean;
  startedAt: string;
  lastSeen: string;
  sameYaml: boolean | null;
}

export interface Instances {
  self: string;
  count: number;
  data: Instance[];
}

export interface Readiness {
  status: 'ready' | 'not ready';
  checks: { store: boolean; nats: boolean; draining: boolean };
  problems: Record<string, string>;
}

export interface LastError {
  at: string;
  messageId: string;
  statusCode: number | null;
  errorClass: string | null;
  error: string | null;
}

export interface StatTotals {
  success: number;
  failure: number;
  successRatio: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  perMinute: number;
}

/** `GET /v1/stats`: every consumer over a window. */
export interface Stats {
  window: string;
  from: string;
  to: string;
  consumers: (StatTotals & { consumerId: string; lastError: LastError | null; pending: number })[];
}

/** `GET /v1/consumers/:id/stats`: one consumer, step by step. */
export interface ConsumerStats {
  consumerId: string;
  window: string;
  step: string;
  from: string;
  to: string;
  steps: { at: string; success: number; failure: number; p50Ms: number | null; p95Ms: number | null }[];
  totals: StatTotals;
  lastError: LastError | null;
  pending: number;
}

export interface OpsEvent {
  type: string;
  at: string;
  payload: unknown;
}
