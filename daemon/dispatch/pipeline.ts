import path from 'node:path';
import { configLocation } from '../../config/loader.js';
import type { ConsumerConfig, HooksdConfig, PluginEntry } from '../../config/schema.js';
import type {
  EventView,
  FilterInstance,
  InstanceOf,
  Lifecycle,
  PluginContext,
  RetryPolicy,
  SignInstance,
  TransformInstance,
  Webhook,
} from '../../plugins/contract.js';
import { eventTypesPlugin } from '../../plugins/eventTypes.js';
import { HooksdError } from '../common/errors.js';
import { loadPlugin, type LoadedPlugin } from './plugin-loader.js';
import { loadTransport, type LoadedTransport } from './transport-loader.js';

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
  /** What sends its requests: the same for every consumer of a config (delivery.transport). */
  readonly transport: LoadedTransport;
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
    /** What sends the requests (delivery.transport). */
    readonly transport: LoadedTransport,
  ) {}

  static async load(
    config: Pick<HooksdConfig, 'pipeline' | 'consumers' | 'delivery'>,
    configFile: string,
  ): Promise<Pipeline> {
    const context: PluginContext = { configDir: path.dirname(path.resolve(configFile)) };
    const load = (entry: PluginEntry, where: (string | number)[]) =>
      loadPlugin(entry, context, {
        where: () => configLocation(configFile, where),
        kinds: ['filter', 'transform', 'sign', 'retry'],
        wrongKind: () => 'a transport plugin is named by delivery.transport, not in a pipeline',
      });
    const transport = await loadTransport(config.delivery.transport, context, () =>
      configLocation(configFile, ['delivery', 'transport']),
    );
    const global = await Promise.all(config.pipeline.map((entry, i) => load(entry, ['pipeline', i])));
    const perConsumer = new Map<string, LoadedPlugin[]>();
    for (const [c, consumer] of config.consumers.entries()) {
      perConsumer.set(
        consumer.id,
        await Promise.all(consumer.plugins.map((entry, i) => load(entry, ['consumers', c, 'plugins', i]))),
      );
    }
    const pipeline = new Pipeline(global, perConsumer, transport);
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
      transport: this.transport,
    };
  }

  async start(): Promise<void> {
    for (const instance of this.instances()) await instance.start?.();
  }

  async stop(): Promise<void> {
    for (const instance of this.instances()) await instance.stop?.();
  }

  private instances(): Lifecycle[] {
    return [...this.global, ...[...this.perConsumer.values()].flat()]
      .map((p) => p.instance)
      .concat(this.transport.instance);
  }
}
