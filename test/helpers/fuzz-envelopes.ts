import fc from 'fast-check';
import { deepText, hostileValue, jsonText, objectText, PROTOTYPE_KEYS, veryDeepText } from './hostile-json.js';

/** One NATS message for the envelope fuzzer. */
export interface Outgoing {
  /** What it was made as; a `good` one is a valid envelope, which hooksd must store as an event. */
  kind: 'bytes' | 'invalid-utf8' | 'envelope' | 'not-an-object' | 'deep' | 'huge' | 'good';
  subject: string;
  data: Uint8Array;
  headers: [string, string][];
}

/** NATS refuses messages over its max_payload (1 MB by default), headers included; a margin below it. */
const MAX_MESSAGE_BYTES = 1024 * 1024 - 4096;
const encoder = new TextEncoder();

// ---- subjects: the stream captures events.>, so all of these reach hooksd ----

/** Subject tokens of any printable characters but whitespace, `*` and `>` included (NATS refuses empty ones). */
const token = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('a', 'Z', '0', '_', '-', '*', '>', '$', '%', 'é', '日', '😀'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 10,
  })
  .map((text) => text.replace(/[\s.\p{Cc}]/gu, '_'));

const subject = fc.oneof(
  fc.constantFrom('events.fuzz.good', 'events.fuzz.checked'),
  fc.stringMatching(/^[a-z]{1,8}(\.[a-z0-9_-]{1,8}){0,3}$/).map((type) => `events.${type}`),
  fc.array(token, { minLength: 1, maxLength: 5 }).map((tokens) => `events.${tokens.join('.')}`),
  // Over-long, yet within the 4,096 bytes of a NATS protocol line: as many tokens, or one long one.
  fc.integer({ min: 200, max: 1_700 }).map((n) => `events.${'a.'.repeat(n)}z`),
  fc.integer({ min: 200, max: 3_500 }).map((n) => `events.${'t'.repeat(n)}`),
);

// ---- envelope fields, as JSON text: right, wrong in type, too long, or hostile ----

const printable = fc
  .string({ minLength: 1, maxLength: 40 })
  .filter((s) => [...s].every((c) => c.charCodeAt(0) >= 0x20));

const idText = fc.oneof(
  fc.oneof(fc.uuid(), printable).map((id) => JSON.stringify(id)),
  // 257 characters is one past the limit; 100 KB is an id nobody should store.
  fc.constantFrom(257, 4_096, 102_400).map((n) => JSON.stringify('i'.repeat(n))),
  fc.constantFrom('""', '"a\\u0000b"', '"\\n"', '123', 'true', 'null', '[]', '{}', '{"__proto__":"x"}'),
  jsonText,
);

const eventTypeText = fc.oneof(
  fc.constantFrom('"fuzz.good"', '"fuzz.checked"', '"a..b"', '"*"', '"a b"', '".a"', '"a."', '""'),
  fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,3}$/).map((type) => JSON.stringify(type)),
  fc.integer({ min: 100, max: 5_000 }).map((n) => JSON.stringify(`${'a.'.repeat(n)}b`)),
  jsonText,
);

const generatedDateText = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => JSON.stringify(date.toISOString())),
  fc.constantFrom(
    '"2024-02-30T00:00:00Z"',
    '"2024-01-01T23:59:60Z"',
    '"2024-01-01"',
    '"2024-01-01t00:00:00z"',
    '"+275760-09-13T00:00:00.000Z"',
    '"yesterday"',
    '0',
    '1700000000000',
  ),
  jsonText,
);

const payloadText = fc.oneof(
  { arbitrary: hostileValue.map((value) => JSON.stringify(value) ?? 'null'), weight: 4 },
  { arbitrary: jsonText, weight: 2 },
);

/** Fields after the usual ones: prototype keys, and envelope fields given a second time. */
const extraFields = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'id', 'eventType', 'payload'), fc.string({ maxLength: 8 })),
    jsonText,
  ),
  { maxLength: 3 },
);

const envelopeText = fc
  .tuple(
    fc.record(
      { id: idText, eventType: eventTypeText, generatedDate: generatedDateText, payload: payloadText },
      { requiredKeys: [] },
    ),
    extraFields,
  )
  .map(([fields, extra]) => objectText([...Object.entries(fields), ...extra]));

// ---- whole messages ----

const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

/** Text with bytes that are not UTF-8 spliced in somewhere. */
const invalidUtf8 = fc.tuple(envelopeText, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([text, bad, at]) => {
  const bytes = encoder.encode(text);
  const cut = at % (bytes.length + 1);
  return Uint8Array.from([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)]);
});

/** 50,000 levels (or about as many) as the payload, as the whole body, or as the id. */
const deep = fc.tuple(veryDeepText, fc.constantFrom('payload', 'body', 'id')).map(([nested, where]) => {
  if (where === 'body') return nested;
  return objectText([
    ['eventType', '"fuzz.good"'],
    [where, nested],
    ...(where === 'payload' ? [] : ([['payload', '{}']] as const)),
  ]);
});

/** Payloads up to NATS's limit: one long string, or a wide array of small objects with prototype keys. */
const huge = fc
  .tuple(fc.integer({ min: 100_000, max: 1_000_000 }), fc.boolean(), fc.constantFrom('fuzz.good', 'fuzz.checked'))
  .map(([size, wide, type]) => {
    const item = '{"__proto__":{"polluted":1},"n":1}';
    const payload = wide
      ? `[${Array.from({ length: Math.floor(size / (item.length + 1)) }, () => item).join(',')}]`
      : JSON.stringify('x'.repeat(size));
    return objectText([
      ['eventType', JSON.stringify(type)],
      ['payload', payload],
    ]);
  });

/** A valid envelope with a hostile payload: hooksd must store it, prototype keys and all. */
const good = fc.tuple(fc.uuid(), hostileValue, fc.boolean()).map(([id, payload, dated]) =>
  JSON.stringify({
    id,
    eventType: 'fuzz.good',
    ...(dated ? { generatedDate: new Date().toISOString() } : {}),
    payload,
  }),
);

const headerValue = fc.oneof(
  // Printable ASCII, as long as 30 characters as often as 1 (short ones repeat, and NATS drops a repeated Nats-Msg-Id).
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30, size: 'max' }).map((s) => s.replace(/[^ -~]/g, '_')),
  // Past the 256 characters of an id, up to 30 KB (NATS takes at most 64 KB of headers: two of these fit).
  fc.tuple(fc.uuid(), fc.integer({ min: 300, max: 30_000 })).map(([id, n]) => id + 'h'.repeat(n)),
);
const headers = fc.array(
  fc.tuple(fc.constantFrom('Nats-Msg-Id', 'X-Fuzz', '__proto__', 'constructor', 'prototype'), headerValue),
  { maxLength: 2 },
);

const text = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((s) => encoder.encode(s));

/** The kinds of message, weighted so that the big ones (the deepest, the huge) stay about 1 in 100. */
const body = fc.oneof(
  {
    arbitrary: fc.uint8Array({ maxLength: 1_024, size: 'medium' }).map((data) => ({ kind: 'bytes' as const, data })),
    weight: 15,
  },
  { arbitrary: invalidUtf8.map((data) => ({ kind: 'invalid-utf8' as const, data })), weight: 10 },
  { arbitrary: text(envelopeText).map((data) => ({ kind: 'envelope' as const, data })), weight: 40 },
  { arbitrary: text(jsonText).map((data) => ({ kind: 'not-an-object' as const, data })), weight: 10 },
  { arbitrary: text(deepText).map((data) => ({ kind: 'deep' as const, data })), weight: 5 },
  { arbitrary: text(deep).map((data) => ({ kind: 'deep' as const, data })), weight: 1 },
  { arbitrary: text(good).map((data) => ({ kind: 'good' as const, data })), weight: 15 },
);

/** A message of any kind but huge, or a huge one (rarer, and without headers, to stay under the limit). */
export const outgoing: fc.Arbitrary<Outgoing> = fc
  .oneof(
    { arbitrary: fc.tuple(body, subject, headers), weight: 199 },
    {
      arbitrary: fc.tuple(
        text(huge).map((data) => ({ kind: 'huge' as const, data })),
        subject,
        fc.constant([] as [string, string][]),
      ),
      weight: 1,
    },
  )
  .map(([{ kind, data }, subject, headers]) => describe({ kind, subject, data, headers }))
  .filter((message) => size(message) <= MAX_MESSAGE_BYTES);

function size(message: Outgoing): number {
  const headerBytes = message.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  return message.data.length + headerBytes + message.subject.length;
}

/** fast-check prints a failing message this way: its kind, sizes and start, not a megabyte of it. */
function describe(message: Outgoing): Outgoing {
  const cut = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text);
  Object.defineProperty(message, fc.toStringMethod, {
    value: () =>
      JSON.stringify({
        kind: message.kind,
        subject: cut(message.subject),
        headers: message.headers.map(([name, value]) => [name, cut(value)]),
        data: cut(Buffer.from(message.data).toString('latin1')),
        bytes: message.data.length,
      }),
  });
  return message;
}
