import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { HooksdConfig } from '../config/schema.js';
import { RouteTable } from './api/route-table.js';
import { buildApiServer } from './api/server.js';
import { consumerRoutes } from './api/routes/consumers.js';
import { deadLetterRoutes } from './api/routes/dead-letters.js';
import { descriptionRoutes } from './api/routes/descriptions.js';
import { eventTypeRoutes } from './api/routes/event-types.js';
import { eventRoutes } from './api/routes/events.js';
import { healthRoutes } from './api/routes/health.js';
import { messageRoutes } from './api/routes/messages.js';
import { taskRoutes } from './api/routes/tasks.js';
import { ConsumerRegistry } from './consumers.js';
import { Dispatcher } from './dispatcher.js';
import { ConsumerHealth } from './health.js';
import { Ingest } from './ingest.js';
import { Metrics } from './metrics.js';
import { ensureStreamAndConsumer, openNats, type NatsHandle } from './nats.js';
import { Pipeline, pluginContext } from './pipeline.js';
import { OpsEvents } from './ops-events.js';
import { liveConfig, swapLiveConfig } from './reload.js';
import { Purger } from './retention.js';
import { Store } from './store.js';
import { Sweeper } from './sweeper.js';
import { Tasks } from './tasks.js';

/** The package's version, found from the sources (tests) or from dist/ (the built daemon). */
function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')).version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

export interface App {
  /** Opens the store, connects to NATS, starts delivering and listening; resolves to the API's URL. */
  start(): Promise<string>;
  /** Applies a new, already validated config: consumers, event types and delivery settings. */
  reload(config: HooksdConfig): Promise<void>;
  /** Drains in SPEC §7's order: stop intake, finish in-flight attempts, close the API, NATS and the store. */
  stop(): Promise<void>;
  readonly store: Store;
  /** The API's routes: what the router serves and /openapi.json describes. */
  readonly routes: RouteTable;
}

export function buildApp(config: HooksdConfig, deps: { configFile: string; log: Logger }): App {
  const { log } = deps;
  const store = new Store(config.storage.path);
  const consumers = new ConsumerRegistry(store, path.dirname(path.resolve(deps.configFile)));
  const live = liveConfig(config);
  const ops = new OpsEvents(log);
  const metrics = new Metrics(log);
  const health = new ConsumerHealth(consumers, ops, live, log);
  const dispatcher = new Dispatcher(store, consumers, health, ops, live, metrics, log);
  const sweeper = new Sweeper(store, dispatcher, config.delivery.sweepSchedule, metrics, log);
  dispatcher.refill = () => sweeper.sweepSoon();
  const purger = new Purger(store, config.storage.retention, config.storage.purgeSchedule, log);
  const tasks = new Tasks(store, consumers, dispatcher, log);
  let pipeline: Pipeline | undefined;
  const loadPipeline = (next: HooksdConfig) =>
    Pipeline.load(next, deps.configFile, pluginContext(next, deps.configFile));
  const loadConsumers = async (next: HooksdConfig, loaded: Pipeline) => {
    const hidden = await consumers.load(next, loaded);
    if (hidden.length > 0)
      log.warn(
        { consumers: hidden },
        'the config file defines consumers with the ids of API consumers: the config file wins, the API ones are hidden',
      );
  };
  let nats: NatsHandle | undefined;
  let ingest: Ingest | undefined;
  let draining = false;

  const routes = new RouteTable();
  healthRoutes(routes, () => {
    const checks = {
      store: store.isOpen,
      nats: nats !== undefined && !nats.nc.isClosed() && ingest !== undefined,
      draining,
    };
    return { ready: checks.store && checks.nats && !draining, checks };
  });
  descriptionRoutes(routes, metrics, packageVersion());
  eventTypeRoutes(routes, live);
  eventRoutes(routes, { store, consumers, dispatcher, live, jetstream: () => nats?.js });
  messageRoutes(routes, store, consumers, dispatcher);
  consumerRoutes(routes, consumers, health);
  taskRoutes(routes, { store, consumers, dispatcher, tasks, live });
  deadLetterRoutes(routes, store);
  const api = buildApiServer({
    listen: config.server.listen,
    tokens: config.server.auth.tokens,
    router: routes.router,
    log,
  });

  return {
    store,
    routes,
    async start() {
      pipeline = await loadPipeline(config);
      await store.start();
      await pipeline.start();
      await loadConsumers(config, pipeline);
      metrics.watch(store);
      const url = await api.start();
      nats = await openNats(config, log);
      ops.attach(nats.nc);
      await ensureStreamAndConsumer(nats.jsm, config, log);
      metrics.watchNats(nats.jsm, config.nats.stream, config.nats.durable);
      sweeper.start();
      purger.start();
      ingest = new Ingest(nats, store, consumers, dispatcher, live, metrics, log);
      await ingest.start();
      await tasks.start();
      log.info({ url, consumers: consumers.all().length, eventTypes: live.catalog.list().length }, 'hooksd ready');
      return url;
    },
    async reload(next) {
      const replaced = pipeline;
      const loaded = await loadPipeline(next);
      await loaded.start();
      await loadConsumers(next, loaded);
      pipeline = loaded;
      swapLiveConfig(live, next, log);
      await replaced?.stop();
    },
    async stop() {
      draining = true;
      await ingest?.stop();
      await tasks.stop();
      await sweeper.stop();
      await purger.stop();
      await dispatcher.stop(config.shutdown.timeout);
      await api.stop();
      await nats?.stop();
      await store.stop();
      await pipeline?.stop();
      consumers.stop();
      log.info('hooksd stopped');
    },
  };
}
