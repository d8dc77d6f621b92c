import { HooksdError } from '../daemon/common/errors.js';

export const DURATION_PATTERN = '^(0|[0-9]+(ms|s|m|h|d))$';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "5s", "5m", "2h", "5d" (or "0") into milliseconds; throws HOOKSD_CONFIG_INVALID on anything else. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text);
  if (!match || (!match[2] && match[1] !== '0')) {
    throw new HooksdError('HOOKSD_CONFIG_INVALID', `not a duration: "${text}" (use "250ms", "5s", "5m", "2h", "5d")`);
  }
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
}
