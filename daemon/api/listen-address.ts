import type { TokenConfig } from '../../config/schema.js';

/**
 * Where the API listens for a server.listen value: that host and port, but loopback when no
 * tokens are configured (`requested` is the host asked for). Kept apart from the server so
 * that the container's health check finds the API the same way without loading Koa.
 */
export function listenAddress(
  listen: string,
  tokens: readonly TokenConfig[],
): { host: string; port: number; requested: string } {
  const at = listen.lastIndexOf(':');
  const requested = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const host = tokens.length === 0 && !isLoopback(requested) ? '127.0.0.1' : requested;
  return { host, port: Number(listen.slice(at + 1)), requested };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
