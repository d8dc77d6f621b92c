import { createHmac, timingSafeEqual } from 'node:crypto';
import { HooksdError } from '../common/errors.js';

/** How old a sealed question may be when it arrives (clocks of the group's machines included). */
const FRESH_FOR_MS = 60_000;

/**
 * The key the instances of a group seal their questions to each other with, made from the API
 * tokens of the config (every instance reads the same YAML): only someone who holds them can
 * ask an instance what its API would answer. None when no token is configured (the API needs
 * none either).
 */
export function groupKey(tokens: readonly string[]): Buffer | undefined {
  if (tokens.length === 0) return undefined;
  return createHmac('sha256', 'hooksd group api')
    .update([...tokens].sort().join('\n'))
    .digest();
}

const macOf = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

/** `question` as it travels: the JSON text, the time it was sent, and their MAC (with a key). */
export function seal(question: unknown, key: Buffer | undefined, now = Date.now()): string {
  const payload = JSON.stringify({ question, at: now });
  return JSON.stringify(key === undefined ? { payload } : { payload, mac: macOf(key, payload).toString('base64') });
}

/**
 * The question in a sealed text, once its MAC checks out with `key` and it is fresh; with no
 * key, any question. Anything else is refused with the reason, never with the key.
 */
export function unseal(text: string, key: Buffer | undefined, now = Date.now()): unknown {
  let sealed: { payload?: unknown; mac?: unknown };
  try {
    sealed = JSON.parse(text);
  } catch {
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'a question from another instance must be JSON');
  }
  if (typeof sealed?.payload !== 'string')
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'a question from another instance must be sealed: {payload, mac}');
  if (key !== undefined) {
    const given = typeof sealed.mac === 'string' ? Buffer.from(sealed.mac, 'base64') : Buffer.alloc(0);
    const expected = macOf(key, sealed.payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HooksdError(
        'HOOKSD_UNAUTHORIZED',
        "a question whose seal does not match this instance's API tokens: " +
          'every instance of a group needs the same server.auth.tokens',
      );
  }
  let opened: { question?: unknown; at?: unknown };
  try {
    opened = JSON.parse(sealed.payload);
  } catch {
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'a sealed question whose payload is not JSON');
  }
  const { question, at } = opened ?? {};
  if (key !== undefined && (typeof at !== 'number' || Math.abs(now - at) > FRESH_FOR_MS))
    throw new HooksdError(
      'HOOKSD_UNAUTHORIZED',
      'a question from another instance that is not fresh (over 60 s apart)',
    );
  return question;
}
