import { HooksdError } from '../daemon/common/errors.js';
import type { PluginDefinition } from './contract.js';
import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): every active secret signs
 * `${id}.${timestamp}.${body}` with HMAC-SHA256, and the signatures are sent space-separated
 * in `webhook-signature`, so a receiver keeps verifying while a secret rotates.
 */

const SECRET_PREFIX = 'whsec_';

/** The key bytes of a `whsec_…` secret; decode once, at start-up. */
export function decodeSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new HooksdError('HOOKSD_CONFIG_INVALID', 'a signing secret must start with "whsec_"');
  }
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** A new secret: `whsec_` and base64 of 24 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The value of the `webhook-signature` header: one `v1,<base64>` per key. */
export function signatureHeader(
  keys: readonly Buffer[],
  msgId: string,
  timestamp: number,
  body: string | Buffer,
): string {
  const signatures: string[] = [];
  for (const key of keys) {
    const hmac = createHmac('sha256', key);
    hmac.update(`${msgId}.${timestamp}.`);
    hmac.update(body);
    signatures.push('v1,' + hmac.digest('base64'));
  }
  return signatures.join(' ');
}

export const standardWebhooksPlugin: PluginDefinition<'sign', { headerPrefix: 'webhook' | 'svix' }> = {
  name: 'standardWebhooks',
  kind: 'sign',
  description:
    'Signs each attempt the Standard Webhooks way: `webhook-id`, `webhook-timestamp` and `webhook-signature` (one ' +
    '`v1,` signature per active secret). `headerPrefix: svix` sends the same values as `svix-id`, `svix-timestamp` ' +
    'and `svix-signature`.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      headerPrefix: { enum: ['webhook', 'svix'], default: 'webhook', description: 'Prefix of the three header names.' },
    },
  },
  example:
    'pipeline: [eventTypes, payloadFilter, script, { use: standardWebhooks, options: { headerPrefix: svix } }, ' +
    'schedule]',
  create: ({ headerPrefix }) => ({
    headers({ messageId, timestamp, body, keys }) {
      return {
        [`${headerPrefix}-id`]: messageId,
        [`${headerPrefix}-timestamp`]: String(timestamp),
        [`${headerPrefix}-signature`]: signatureHeader(keys, messageId, timestamp, body),
      };
    },
  }),
};
