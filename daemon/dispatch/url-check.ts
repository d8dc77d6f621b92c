import { isIP } from 'node:net';
import { unbracket, type NetworkGuard } from './network-guard.js';

/** How long a consumer URL's name may take to resolve before it counts as not resolving now. */
const RESOLVE_TIMEOUT_MS = 5_000;
const AGAIN = 'delivery resolves it again at every attempt';

/** What delivery.network makes of a consumer URL: refused for good, taken with a warning, or fine (null). */
export type UrlVerdict = { refused: string } | { warning: string } | null;

/**
 * Checks a consumer URL when the consumer is created or changed, the way delivery will: an IP
 * address in a refused range is refused, and so is a name every address of which is refused.
 * A name that does not resolve now, or resolves to some refused addresses among allowed ones,
 * is taken with a warning, since delivery resolves it again at every attempt (and refuses an
 * attempt while any address it gets is refused).
 */
export async function checkConsumerUrl(guard: NetworkGuard, url: string): Promise<UrlVerdict> {
  const literal = guard.checkUrl(url);
  if (literal !== null) return { refused: literal };
  const host = new URL(url).hostname;
  if (isIP(unbracket(host)) !== 0) return null;
  let addresses: string[] | undefined;
  try {
    addresses = (await withinTime(guard.resolve(host, { family: 0 })))?.map((entry) => entry.address);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { warning: `${host} does not resolve now (${why}): ${AGAIN}` };
  }
  if (addresses === undefined)
    return { warning: `${host} did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s: ${AGAIN}` };
  if (addresses.length === 0) return { warning: `${host} has no address now: ${AGAIN}` };
  const refusals = addresses.map((address) => guard.check(address)).filter((refusal) => refusal !== null);
  if (refusals.length === addresses.length)
    return { refused: `${host} resolves only to addresses delivery.network refuses: ${refusals.join('; ')}` };
  if (refusals.length > 0)
    return {
      warning:
        `${host} also resolves to addresses delivery.network refuses, and an attempt is refused while the name ` +
        `resolves to any of them: ${refusals.join('; ')}`,
    };
  return null;
}

/** What `work` resolves to, or undefined when it takes longer than RESOLVE_TIMEOUT_MS. */
function withinTime<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), RESOLVE_TIMEOUT_MS);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
