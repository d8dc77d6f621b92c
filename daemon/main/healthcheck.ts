/**
 * The container's health check (the Dockerfile's HEALTHCHECK runs bin/healthcheck.js): GET
 * /healthz where the config file the daemon reads says the API listens, so that a config that
 * moves server.listen to another port needs no change to the image.
 *
 * The file is read as it is now. server.listen is not reloaded, so after changing it the
 * container needs a restart (until then the check looks on the new port and fails); and a file
 * that no longer loads fails the check, since the daemon would not start again with it.
 */
import { validateConfigFile } from '../../config/loader.js';
import type { HooksdConfig } from '../../config/schema.js';
import { listenAddress } from '../api/listen-address.js';

/** The /healthz URL for a config: a wildcard listen host is reached on loopback. */
export function healthzUrl(config: Pick<HooksdConfig, 'server'>): URL {
  const { host, port } = listenAddress(config.server.listen, config.server.auth.tokens);
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new URL(`http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}/healthz`);
}

/** Whether the API answers 2xx on /healthz, and a line saying what happened. */
export async function checkHealth(
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 4000,
): Promise<{ ok: boolean; message: string }> {
  const { config, problems } = validateConfigFile(configFile, env);
  if (!config) {
    return { ok: false, message: `cannot tell where the API listens: ${configFile} does not load: ${problems[0]}` };
  }
  const url = healthzUrl(config);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: response.ok, message: `GET ${url} answered ${response.status}` };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return { ok: false, message: `GET ${url} failed: ${cause?.message ?? (error as Error).message}` };
  }
}
