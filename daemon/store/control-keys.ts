import type {
  ApiConsumerRecord,
  ConsumerState,
  SecretRecord,
  TaskPartRecord,
  TaskRecord,
  YamlDigestRecord,
} from './records.js';

/**
 * The keys of the control bucket: `<kind>.<id>`, the id written with every character other
 * than a letter, digit, `_` or `-` as `=` and its UTF-8 bytes in hex (a consumer `orders.eu`
 * is `consumers.orders=2Eeu`), so that any id makes a valid key of one token.
 *
 *   consumers.<consumerId>  → ApiConsumerRecord  (consumers created through the API)
 *   states.<consumerId>     → ConsumerState      (enabled or disabled, why, failing since)
 *   secrets.<consumerId>    → SecretRecord       (generated and rotated secrets)
 *   tasks.<taskId>          → TaskRecord         (bulk recover and replay-missing)
 *   parts.<taskId>/<instanceId> → TaskPartRecord (each instance's part of a task, its progress)
 *   yaml.<instanceId>       → YamlDigestRecord   (the digest of each instance's YAML consumers)
 */
export const CONTROL_KINDS = ['consumers', 'states', 'secrets', 'tasks', 'parts', 'yaml'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

export interface ControlValues {
  consumers: ApiConsumerRecord;
  states: ConsumerState;
  secrets: SecretRecord;
  tasks: TaskRecord;
  parts: TaskPartRecord;
  yaml: YamlDigestRecord;
}

export function encodeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/gu, (char) =>
    [...Buffer.from(char, 'utf8')].map((byte) => '=' + byte.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

export function decodeId(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] !== '=') bytes.push(encoded.charCodeAt(i));
    else {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export const controlKey = (kind: ControlKind, id: string): string => `${kind}.${encodeId(id)}`;

/** The kind and id a key names, or undefined for a key hooksd does not write. */
export function parseControlKey(key: string): { kind: ControlKind; id: string } | undefined {
  const dot = key.indexOf('.');
  const kind = key.slice(0, dot) as ControlKind;
  const rest = key.slice(dot + 1);
  if (dot < 1 || !CONTROL_KINDS.includes(kind) || !/^[A-Za-z0-9_=-]+$/.test(rest)) return undefined;
  return { kind, id: decodeId(rest) };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isTime = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
const isTimeOrNull = (value: unknown) => value === null || isTime(value);
const optional = (value: unknown, check: (v: unknown) => boolean) => value === undefined || check(value);

/**
 * Whether a value read from the bucket has the shape hooksd writes for its kind. Anything else
 * (written by hand, by another program, or damaged) is skipped, never used.
 */
const CHECKS: { [K in ControlKind]: (value: Record<string, unknown>, id: string) => boolean } = {
  consumers: (v, id) => v.id === id && typeof v.url === 'string',
  states: (v) =>
    optional(v.disabled, (d) => typeof d === 'boolean') &&
    optional(v.disabledReason, (r) => typeof r === 'string') &&
    optional(v.changedAt, isTime) &&
    optional(v.failingSince, isTimeOrNull),
  secrets: (v) =>
    Array.isArray(v.secrets) &&
    v.secrets.length > 0 &&
    v.secrets.every(
      (s: unknown) => isObject(s) && typeof s.secret === 'string' && s.secret !== '' && isTimeOrNull(s.expiresAt),
    ) &&
    (v.configSecretHash === null || typeof v.configSecretHash === 'string'),
  tasks: (v, id) =>
    v.id === id &&
    (v.kind === 'recover' || v.kind === 'replay-missing') &&
    typeof v.consumerId === 'string' &&
    typeof v.status === 'string' &&
    isTime(v.createdAt) &&
    Array.isArray(v.pending) &&
    optional(v.instances, (list) => Array.isArray(list) && list.every((i) => typeof i === 'string')),
  parts: (v, id) =>
    typeof v.taskId === 'string' &&
    typeof v.instance === 'string' &&
    `${v.taskId}/${v.instance}` === id &&
    (v.status === 'running' || v.status === 'done' || v.status === 'failed') &&
    typeof v.examined === 'number' &&
    typeof v.sent === 'number' &&
    Array.isArray(v.pending),
  yaml: (v) => typeof v.digest === 'string' && isTime(v.at),
};

/** The value as hooksd wrote it, or undefined when it is not JSON of the kind's shape. */
export function readControlValue<K extends ControlKind>(
  kind: K,
  id: string,
  bytes: Uint8Array,
): ControlValues[K] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  return isObject(value) && CHECKS[kind](value, id) ? (value as unknown as ControlValues[K]) : undefined;
}
