import type { PluginEntry } from '../../config/schema.js';
import type { PluginContext, TransportInstance } from '../../plugins/contract.js';
import { loadPlugin } from './plugin-loader.js';

/** What a delivery worker thread needs to load the same transport: its module, options and config folder. */
export interface TransportSource {
  use: string;
  options: Readonly<Record<string, unknown>>;
  configDir: string;
}

/** The transport `delivery.transport` names, created once per config (and once in each delivery worker). */
export interface LoadedTransport {
  name: string;
  /** got or node: trusted to keep the contract, so their answers are not checked (http-attempt.ts). */
  builtIn: boolean;
  source: TransportSource;
  instance: TransportInstance;
}

/** Loads a transport plugin: got or node by name, or a module whose `kind` is transport. */
export async function loadTransport(
  entry: PluginEntry,
  context: PluginContext,
  where: () => string,
): Promise<LoadedTransport> {
  const use = typeof entry === 'string' ? entry : entry.use;
  const loaded = await loadPlugin(entry, context, {
    where,
    kinds: ['transport'],
    wrongKind: (kind) =>
      `it is a ${kind} plugin, which belongs in pipeline: delivery.transport takes got, node or a module whose kind ` +
      'is transport',
  });
  return {
    name: loaded.name,
    builtIn: loaded.builtIn,
    source: { use, options: loaded.options, configDir: context.configDir },
    instance: loaded.instance as TransportInstance,
  };
}
