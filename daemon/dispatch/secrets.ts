import { createHash } from 'node:crypto';
import { decodeSecret, generateSecret } from '../../plugins/standardWebhooks.js';
import type { SecretRecord, StoredSecret } from '../store/records.js';

export interface SigningKey {
  key: Buffer;
  expiresAt: number | null;
}

export const secretDigest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/** The secrets in force for a consumer, given its config secret (if any) and what the store holds. */
export function effectiveSecrets(
  configSecret: string | undefined,
  stored: SecretRecord | undefined,
): StoredSecret[] | undefined {
  if (stored !== undefined && (configSecret === undefined || stored.configSecretHash === secretDigest(configSecret)))
    return stored.secrets;
  return configSecret === undefined ? undefined : [{ secret: configSecret, expiresAt: null }];
}

/** A new secret first, the current ones kept for `graceMs` more (or less, if they expire sooner). */
export function rotate(
  current: readonly StoredSecret[],
  graceMs: number,
  now = Date.now(),
): { secret: string; secrets: StoredSecret[] } {
  const secret = generateSecret();
  const until = now + graceMs;
  const kept = current
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => ({ secret: s.secret, expiresAt: s.expiresAt === null ? until : Math.min(s.expiresAt, until) }));
  return { secret, secrets: [{ secret, expiresAt: null }, ...(graceMs > 0 ? kept : [])] };
}

export function signingKeys(secrets: readonly StoredSecret[]): SigningKey[] {
  return secrets.map((s) => ({ key: decodeSecret(s.secret), expiresAt: s.expiresAt }));
}

/** The keys that sign at `now`: every secret not yet expired. */
export function activeKeys(keys: readonly SigningKey[], now: number): Buffer[] {
  const active: Buffer[] = [];
  for (const k of keys) if (k.expiresAt === null || k.expiresAt > now) active.push(k.key);
  return active;
}
