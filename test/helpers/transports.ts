import { loadTransport, type LoadedTransport } from '../../daemon/dispatch/transport-loader.js';

/** The built-in transports (delivery.transport). */
export const TRANSPORT_NAMES = ['got', 'node'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Each built-in transport loaded as hooksd loads it. */
export const TRANSPORTS: Record<TransportName, LoadedTransport> = {
  got: await loadTransport('got', { configDir: process.cwd() }, () => 'test'),
  node: await loadTransport('node', { configDir: process.cwd() }, () => 'test'),
};
