import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { configLocation } from '../../config/loader.js';
import type { ConsumerConfig, HooksdConfig, PluginEntry } from '../../config/schema.js';
import { addConfigKeywords } from '../../config/validate.js';
import type {
  EventView,
  FilterInstance,
  InstanceOf,
  PluginContext,
  PluginDefinition,
  PluginKind,
  RetryPolicy,
  SignInstance,
  TransformInstance,
  Webhook,
} from '../../plugins/contract.js';
import { eventTypesPlugin } from '../../plugins/eventTypes.js';
import { payloadFilterPlugin } from '../../plugins/payloadFilter.js';
import { schedulePlugin } from '../../plugins/schedule.js';
import { scriptPlugin } from '../../plugins/script.js';
import { standardWebhooksPlugin } from '../../plugins/standardWebhooks.js';
import { HooksdError } from '../common/errors.js';

export const BUILT_IN_PLUGINS: readonly PluginDefinition<PluginKind, never>[] = [
  eventTypesPlugin,
  payloadFilterPlugin,
  scriptPlugin,
  standardWebhooksPlugin,
  schedulePlugin,
];

const KINDS: readonly PluginKind[] = ['filter', 'transform', 'sign', 'retry'];

interface LoadedPlugin<K extends PluginKind = PluginKind> {
  name: string;
  kind: K;
  instance: InstanceOf[K];
}

/** One consumer's share of the pipeline, resolved once per config. */
export interface ConsumerPipeline {
  /** The `eventTypes` filter alone: it only reads the type, so fan-out caches it per type. */
  matchesType(eventType: string): boolean;
  /** The other filters, in pipeline order; throws when one of them does. */
  accepts(event: EventView): boolean;
  readonly hasFilters: boolean;
  readonly transforms: readonly ((webhook: Webhook) => Webhook)[];
  readonly sign: SignInstance;
  readonly retry: RetryPolicy;
}

/**
 * The plugins of a config: built-ins by name, custom ones by module path (relative to the
 * config file). A plugin that fails to load, or whose options fail its schema, stops start-up
 * with a message naming it and its place in the YAML.
 */
export class Pipeline {
  private constructor(
    private readonly global: LoadedPlugin[],
    private readonly perConsumer: Map<string, LoadedPlugin[]>,
  ) {}

  static async load(config: Pick<HooksdConfig, 'pipeline' | 'consumers'>, configFile: string): Promise<Pipeline> {
    const context: PluginContext = { configDir: path.dirname(path.resolve(configFile)) };
    const load = (entry: PluginEntry, where: (string | number)[]) =>
      loadPlugin(entry, context, () => configLocation(configFile, where));
    const global = await Promise.all(config.pipeline.map((entry, i) => load(entry, ['pipeline', i])));
    const perConsumer = new Map<string, LoadedPlugin[]>();
    for (const [c, consumer] of config.consumers.entries()) {
      perConsumer.set(
        consumer.id,
        await Promise.all(consumer.plugins.map((entry, i) => load(entry, ['consumers', c, 'plugins', i]))),
      );
    }
    const pipeline = new Pipeline(global, perConsumer);
    for (const [c, consumer] of config.consumers.entries()) {
      try {
        pipeline.forConsumer(consumer);
      } catch (error) {
        // Already placed in the YAML; anything else (a bad filter or transform) is placed here.
        if (error instanceof HooksdError && error.code === 'HOOKSD_PLUGIN_INVALID') throw error;
        throw new HooksdError(
          'HOOKSD_PLUGIN_INVALID',
          `${configLocation(configFile, ['consumers', c])} consumers[${c}] (${consumer.id}): ` +
            `${(error as Error).message}`,
        );
      }
    }
    return pipeline;
  }

  /** Throws HOOKSD_PLUGIN_INVALID when the consumer would end up without exactly one sign and one retry plugin. */
  forConsumer(consumer: ConsumerConfig): ConsumerPipeline {
    const plugins = [...this.global, ...(this.perConsumer.get(consumer.id) ?? [])];
    const typeFilters: ((event: EventView) => boolean)[] = [];
    const filters: ((event: EventView) => boolean)[] = [];
    const transforms: ((webhook: Webhook) => Webhook)[] = [];
    for (const plugin of plugins) {
      if (plugin.kind === 'filter') {
        const predicate = (plugin.instance as FilterInstance).forConsumer(consumer);
        if (predicate) (plugin.name === eventTypesPlugin.name ? typeFilters : filters).push(predicate);
      } else if (plugin.kind === 'transform') {
        const transform = (plugin.instance as TransformInstance).forConsumer(consumer);
        if (transform) transforms.push(transform);
      }
    }
    const only = <K extends 'sign' | 'retry'>(kind: K): InstanceOf[K] => {
      const found = plugins.filter((p) => p.kind === kind);
      // A consumer's own sign or retry plugin replaces the global one.
      const chosen = found.at(-1);
      if (chosen === undefined)
        throw new HooksdError(
          'HOOKSD_PLUGIN_INVALID',
          `consumer "${consumer.id}" has no ${kind} plugin: add one (e.g. ` +
            `${kind === 'sign' ? 'standardWebhooks' : 'schedule'}) to pipeline`,
        );
      return chosen.instance as InstanceOf[K];
    };
    return {
      matchesType: (eventType) =>
        typeFilters.every((f) => f({ id: '', eventType, generatedDate: '', payload: undefined })),
      accepts: (event) => filters.every((f) => f(event)),
      hasFilters: filters.length > 0,
      transforms,
      sign: only('sign'),
      retry: only('retry').forConsumer(consumer),
    };
  }

  async start(): Promise<void> {
    for (const plugin of this.all()) await plugin.instance.start?.();
  }

  async stop(): Promise<void> {
    for (const plugin of this.all()) await plugin.instance.stop?.();
  }

  private all(): LoadedPlugin[] {
    return [...this.global, ...[...this.perConsumer.values()].flat()];
  }
}

// Plugin options may use the config's own keywords: `duration: true` takes "5s" and gives milliseconds.
const optionsAjv = addConfigKeywords(new Ajv({ allErrors: true, useDefaults: true }));

/** `options.a.b must be …; …`: ajv's errors about plugin options, with paths as the YAML names them. */
const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `options${e.instancePath.replace(/\//g, '.')} ${e.message}`).join('; ');

async function loadPlugin(entry: PluginEntry, context: PluginContext, where: () => string): Promise<LoadedPlugin> {
  const { use, options = {} } = typeof entry === 'string' ? { use: entry } : entry;
  const fail = (message: string): never => {
    throw new HooksdError('HOOKSD_PLUGIN_INVALID', `${where()} plugin "${use}": ${message}`);
  };
  let definition = BUILT_IN_PLUGINS.find((p) => p.name === use) as PluginDefinition | undefined;
  if (definition === undefined) {
    if (!/^(\.{0,2}\/)/.test(use))
      fail(
        `no built-in plugin has this name (built-ins: ${BUILT_IN_PLUGINS.map((p) => p.name).join(', ')}); a custom ` +
          `plugin is a module path like ./plugins/mine.js`,
      );
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
  const copy = structuredClone(options);
  let validate;
  try {
    validate = optionsAjv.compile(definition.optionsSchema);
  } catch (error) {
    return fail(`its optionsSchema is not a valid JSON Schema: ${(error as Error).message}`);
  }
  if (!validate(copy)) fail(`invalid options: ${describeErrors(validate.errors)}`);
  let instance;
  try {
    instance = definition.create(Object.freeze(copy) as never, context);
  } catch (error) {
    return fail(`create() failed: ${(error as Error).message}`);
  }
  return { name: definition.name, kind: definition.kind, instance };
}
