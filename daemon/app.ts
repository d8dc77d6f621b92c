import path from 'node:path';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { HooksdConfig } from '../config/schema.js';
import { buildApiServer, type ApiState } from './api/server.js';
import { consumerRoutes } from './api/routes/consumers.js';
import { deadLetterRoutes } from './api/routes/dead-letters.js';
import { eventRoutes } from './api/routes/events.js';
import { healthRoutes } from './api/routes/health.js';
import { messageRoutes } from './api/routes/messages.js';
import { ConsumerRegistry } from './consumers.js';
import { Dispatcher } from './dispatcher.js';
import { ConsumerHealth } from './health.js';
import { Ingest } from './ingest.js';
import { ensureStreamAndConsumer, openNats, type NatsHandle } from './nats.js';
import { Pipeline, pluginContext } from './pipeline.js';
import { OpsEvents } from './ops-events.js';
import { liveConfig, swapLiveConfig } from './reload.js';
import { Purger } from './retention.js';
import { Store } from './store.js';
import { Sweeper } from './sweeper.js';

export interface App {
  /** Opens the store, connects to NATS, starts delivering and listening; resolves to the API's URL. */
  start(): Promise<string>;
  /** Applies a new, already validated config: consumers, event types and delivery settings. */
  reload(config: HooksdConfig): Promise<void>;
  /** Drains in SPEC §7's order: stop intake, finish in-flight attempts, close the API, NATS and the store. */
  stop(): Promise<void>;
  readonly store: Store;
}

export function buildApp(config: HooksdConfig, deps: { configFile: string; log: Logger }): App {
  const { log } = deps;
  const store = new Store(config.storage.path);
  const consumers = new ConsumerRegistry(store, path.dirname(path.resolve(deps.configFile)));
  const live = liveConfig(config);
  const ops = new OpsEvents(log);
  const health = new ConsumerHealth(consumers, ops, live, log);
  const dispatcher = new Dispatcher(store, consumers, health, ops, live, log);
  const sweeper = new Sweeper(store, dispatcher, config.delivery.sweepSchedule, log);
  const purger = new Purger(store, config.storage.retention, config.storage.purgeSchedule, log);
  let pipeline: Pipeline | undefined;
  const loadPipeline = (next: HooksdConfig) => Pipeline.load(next, deps.configFile, pluginContext(next, deps.configFile));
  let nats: NatsHandle | undefined;
  let ingest: Ingest | undefined;
  let draining = false;

  const router = new Router<ApiState>();
  healthRoutes(router, () => {
    const checks = { store: store.isOpen, nats: nats !== undefined && !nats.nc.isClosed() && ingest !== undefined, draining };
    return { ready: checks.store && checks.nats && !draining, checks };
  });
  eventRoutes(router, store);
  messageRoutes(router, store, consumers, dispatcher);
  consumerRoutes(router, consumers, health);
  deadLetterRoutes(router, store);
  const api = buildApiServer({ listen: config.server.listen, tokens: config.server.auth.tokens, router, log });

  return {
    store,
    async start() {
      pipeline = await loadPipeline(config);
      await store.start();
      await pipeline.start();
      await consumers.load(config, pipeline);
      const url = await api.start();
      nats = await openNats(config, log);
      ops.attach(nats.nc);
      await ensureStreamAndConsumer(nats.jsm, config, log);
      sweeper.start();
      purger.start();
      ingest = new Ingest(nats, store, consumers, dispatcher, live, log);
      await ingest.start();
      log.info({ url, consumers: consumers.all().length, eventTypes: live.catalog.list().length }, 'hooksd ready');
      return url;
    },
    async reload(next) {
      const replaced = pipeline;
      const loaded = await loadPipeline(next);
      await loaded.start();
      await consumers.load(next, loaded);
      pipeline = loaded;
      swapLiveConfig(live, next, log);
      await replaced?.stop();
    },
    async stop() {
      draining = true;
      await ingest?.stop();
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
