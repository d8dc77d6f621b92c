import { HooksdError } from '../common/errors.js';
import type { NetworkGuard } from '../dispatch/network-guard.js';
import { checkConsumerUrl } from '../dispatch/url-check.js';

/** What a consumer made or changed through the API is checked against: the running config's, read at each request. */
export interface ConsumerPolicy {
  /** delivery.network, as deliveries apply it. */
  guard: () => NetworkGuard;
  /** The names of the event catalog. */
  eventTypes: () => readonly string[];
  /** ingest.unknownTypes: with `deliver`, types outside the catalog are delivered too. */
  unknownTypes: () => 'reject' | 'deliver';
}

const SHOWN_TYPES = 20;

/** Whether an `eventTypes` selector (a name, `prefix.*` or `*`) takes any type of the catalog. */
function selectsAny(selector: string, names: readonly string[]): boolean {
  if (selector === '*') return true;
  if (selector.endsWith('.*')) return names.some((name) => name.startsWith(selector.slice(0, -1)));
  return names.includes(selector);
}

/**
 * Refuses a consumer's new `url` or `eventTypes` when no delivery could ever follow from them:
 * a URL delivery.network refuses (HOOKSD_URL_REFUSED, naming the setting that would allow it),
 * or event types outside the catalog while ingest refuses those. Resolves to warnings about
 * what was taken but may not work (a name that does not resolve now).
 */
export async function checkConsumerChange(
  policy: ConsumerPolicy,
  change: { url?: string; eventTypes?: readonly string[] },
): Promise<string[]> {
  if (change.eventTypes !== undefined && policy.unknownTypes() === 'reject') {
    const names = policy.eventTypes();
    const unknown = change.eventTypes.filter((selector) => !selectsAny(selector, names));
    if (unknown.length > 0) {
      const shown = names.slice(0, SHOWN_TYPES).join(', ') + (names.length > SHOWN_TYPES ? ', ...' : '');
      throw new HooksdError(
        'HOOKSD_INVALID_REQUEST',
        `body.eventTypes: ${unknown.map((s) => `"${s}"`).join(', ')} ${unknown.length === 1 ? 'names' : 'name'} no ` +
          `type of the event catalog, and ingest refuses events of other types (ingest.unknownTypes: reject); ` +
          `the catalog: ${shown || 'empty'}`,
        unknown.map((selector) => `body.eventTypes: "${selector}" is not in the event catalog`),
      );
    }
  }
  if (change.url === undefined) return [];
  // The schema's `uri` format takes what the WHATWG parser, which delivery uses, refuses ("http://").
  if (!URL.canParse(change.url))
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'body.url: is not a URL an HTTP request can be sent to', [
      'body.url: is not a URL an HTTP request can be sent to',
    ]);
  const verdict = await checkConsumerUrl(policy.guard(), change.url);
  if (verdict === null) return [];
  if ('refused' in verdict)
    throw new HooksdError('HOOKSD_URL_REFUSED', `body.url: ${verdict.refused}`, {
      host: new URL(change.url).hostname,
      refused: verdict.refused,
    });
  return [`url: ${verdict.warning}`];
}
