import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): every active secret signs
 * `${id}.${timestamp}.${body}` with HMAC-SHA256, and the signatures are sent space-separated
 * in `webhook-signature`, so a receiver keeps verifying while a secret rotates.
 */

const SECRET_PREFIX = 'whsec_';

/** The key bytes of a `whsec_…` secret; decode once, at start-up. */
export function decodeSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a signing secret must start with "whsec_"');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** A new secret: `whsec_` and base64 of 24 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The value of the `webhook-signature` header: one `v1,<base64>` per key. */
export function signatureHeader(keys: readonly Buffer[], msgId: string, timestamp: number, body: string | Buffer): string {
  const signatures: string[] = [];
  for (const key of keys) {
    const hmac = createHmac('sha256', key);
    hmac.update(`${msgId}.${timestamp}.`);
    hmac.update(body);
    signatures.push('v1,' + hmac.digest('base64'));
  }
  return signatures.join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(keys: readonly Buffer[], msgId: string, timestamp: number, body: string | Buffer) {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(keys, msgId, timestamp, body),
  };
}
