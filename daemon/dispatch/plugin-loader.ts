import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import type { PluginEntry } from '../../config/schema.js';
import { addConfigKeywords } from '../../config/validate.js';
import type { InstanceOf, PluginContext, PluginDefinition, PluginKind } from '../../plugins/contract.js';
import { eventTypesPlugin } from '../../plugins/eventTypes.js';
import { payloadFilterPlugin } from '../../plugins/payloadFilter.js';
import { schedulePlugin } from '../../plugins/schedule.js';
import { scriptPlugin } from '../../plugins/script.js';
import { standardWebhooksPlugin } from '../../plugins/standardWebhooks.js';
import { HooksdError } from '../common/errors.js';
import { gotTransport } from './transport-got.js';
import { nodeTransport } from './transport-node.js';

export const BUILT_IN_PLUGINS: readonly PluginDefinition<PluginKind, never>[] = [
  eventTypesPlugin,
  payloadFilterPlugin,
  scriptPlugin,
  standardWebhooksPlugin,
  schedulePlugin,
  gotTransport,
  nodeTransport,
];

const KINDS: readonly PluginKind[] = ['filter', 'transform', 'sign', 'retry', 'transport'];

export interface LoadedPlugin<K extends PluginKind = PluginKind> {
  name: string;
  kind: K;
  /** One of BUILT_IN_PLUGINS, not a module of the operator's. */
  builtIn: boolean;
  /** The options as `create` got them: validated, with their defaults. */
  options: Readonly<Record<string, unknown>>;
  instance: InstanceOf[K];
}

/** Where an entry is and what it may be: `wrongKind` says why a plugin of another kind is refused there. */
export interface PluginPlace {
  where: () => string;
  kinds: readonly PluginKind[];
  wrongKind: (kind: PluginKind) => string;
}

// Plugin options may use the config's own keywords: `duration: true` takes "5s" and gives milliseconds.
const optionsAjv = addConfigKeywords(new Ajv({ allErrors: true, useDefaults: true }));

/** `options.a.b must be …; …`: ajv's errors about plugin options, with paths as the YAML names them. */
const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `options${e.instancePath.replace(/\//g, '.')} ${e.message}`).join('; ');

/**
 * A built-in by name or a custom plugin by module path (made absolute by the config loader),
 * its options validated and defaulted by its schema, created once. Every problem is one
 * HOOKSD_PLUGIN_INVALID naming the entry's place in the YAML.
 */
export async function loadPlugin(
  entry: PluginEntry,
  context: PluginContext,
  place: PluginPlace,
): Promise<LoadedPlugin> {
  const { use, options = {} } = typeof entry === 'string' ? { use: entry } : entry;
  const fail = (message: string): never => {
    throw new HooksdError('HOOKSD_PLUGIN_INVALID', `${place.where()} plugin "${use}": ${message}`);
  };
  let definition = BUILT_IN_PLUGINS.find((p) => p.name === use) as PluginDefinition | undefined;
  const builtIn = definition !== undefined;
  if (definition === undefined) {
    if (!/^(\.{0,2}\/)/.test(use)) {
      const names = BUILT_IN_PLUGINS.filter((p) => place.kinds.includes(p.kind)).map((p) => p.name);
      fail(
        `no built-in plugin has this name (built-ins: ${names.join(', ')}); a custom ` +
          `plugin is a module path like ./plugins/mine.js`,
      );
    }
    let module: Record<string, unknown>;
    try {
      module = await import(pathToFileURL(use).href);
    } catch (error) {
      return fail(`cannot be loaded: ${(error as Error).message}`);
    }
    definition = (module.default ?? module) as PluginDefinition;
    const problems = [
      typeof definition.name !== 'string' && 'it exports no `name`',
      !KINDS.includes(definition.kind) && `its \`kind\` must be one of ${KINDS.join(', ')}`,
      (typeof definition.optionsSchema !== 'object' || definition.optionsSchema === null) &&
        'it exports no `optionsSchema`',
      typeof definition.create !== 'function' && 'it exports no `create(options, context)` function',
    ].filter(Boolean);
    if (problems.length > 0) fail(problems.join('; '));
  }
  if (!place.kinds.includes(definition.kind)) fail(place.wrongKind(definition.kind));
  const copy = structuredClone(options);
  let validate;
  try {
    validate = optionsAjv.compile(definition.optionsSchema);
  } catch (error) {
    return fail(`its optionsSchema is not a valid JSON Schema: ${(error as Error).message}`);
  }
  if (!validate(copy)) fail(`invalid options: ${describeErrors(validate.errors)}`);
  const frozen = Object.freeze(copy);
  let instance;
  try {
    instance = definition.create(frozen as never, context);
  } catch (error) {
    return fail(`create() failed: ${(error as Error).message}`);
  }
  if (definition.kind === 'transport' && typeof (instance as InstanceOf['transport'])?.send !== 'function')
    fail('create() returned no `send(request)` function');
  return { name: definition.name, kind: definition.kind, builtIn, options: frozen, instance };
}
