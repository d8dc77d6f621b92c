import path from 'node:path';
import type { Logger } from 'pino';
import type { HooksdConfig } from '../../config/schema.js';
import { builtConsoleDir, consoleFiles } from '../api/console-files.js';
import { Group } from '../api/group.js';
import { groupKey } from '../api/group-seal.js';
import { RouteTable } from '../api/route-table.js';
import { buildApiServer } from '../api/server.js';
import { consumerRoutes } from '../api/routes/consumers.js';
import { deadLetterRoutes } from '../api/routes/dead-letters.js';
import { descriptionRoutes } from '../api/routes/descriptions.js';
import { eventTypeRoutes } from '../api/routes/event-types.js';
import { eventRoutes } from '../api/routes/events.js';
import { healthRoutes } from '../api/routes/health.js';
import { instanceRoutes } from '../api/routes/instances.js';
import { liveRoutes } from '../api/routes/live.js';
import { messageRoutes } from '../api/routes/messages.js';
import { opsEventRoutes } from '../api/routes/ops-events.js';
import { statsRoutes } from '../api/routes/stats.js';
import { taskRoutes } from '../api/routes/tasks.js';
import { whoamiRoutes } from '../api/routes/whoami.js';
import { Metrics } from '../common/metrics.js';
import { OpsEvents } from '../common/ops-events.js';
import { Attempts } from '../dispatch/attempt.js';
import { ConsumerRegistry } from '../dispatch/consumers.js';
import { DeliveryPool, defaultWorkers } from '../dispatch/delivery-pool.js';
import { DeliveryStats } from '../dispatch/delivery-stats.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { ConsumerHealth } from '../dispatch/health.js';
import { Pipeline } from '../dispatch/pipeline.js';
import { YamlAgreement } from '../dispatch/yaml-agreement.js';
import { Ingest } from '../ingest/ingest.js';
import { ensureStreamAndConsumer, openNats, type NatsHandle } from '../ingest/nats.js';
import { carryOverLegacyControl } from '../store/control-migration.js';
import { Handover } from '../ingest/handover.js';
import { KnownElsewhere } from '../ingest/known-elsewhere.js';
import { Presence } from '../ingest/presence.js';
import { apiSubject, presenceSubject, storedEventsSubject } from '../common/subjects.js';
import { instanceTag, setIdOwner } from '../store/ids.js';
import { Store } from '../store/store.js';
import { Purger } from '../sweeper/retention.js';
import { Sweeper } from '../sweeper/sweeper.js';
import { Tasks } from '../sweeper/tasks.js';
import { packageVersion } from '../common/version.js';
import { instanceIdOf } from './instance-id.js';
import { partSettings, sectionsNeedingRestart, type PartSettings } from './settings.js';

export interface App {
  /** Opens the store, connects to NATS, starts delivering and listening; resolves to the API's URL. */
  start(): Promise<string>;
  /** Applies a new, already validated config: consumers, event types and delivery settings. */
  reload(config: HooksdConfig): Promise<void>;
  /** Drains in order: stop intake, finish in-flight attempts, close the API, NATS and the store. */
  stop(): Promise<void>;
  readonly store: Store;
  /** The API's routes: what the router serves and /openapi.json describes. */
  readonly routes: RouteTable;
}

/**
 * Wires hooksd's parts together; nothing listens or connects until `start`. Each part gets
 * its own slice of the config (settings.ts), replaced on reload.
 */
export function buildApp(config: HooksdConfig, deps: { configFile: string; log: Logger }): App {
  const { log } = deps;
  let running = config;
  let settings = partSettings(config);
  const store = new Store(config.storage.path);
  const consumers = new ConsumerRegistry(store, path.dirname(path.resolve(deps.configFile)), log);
  const ops = new OpsEvents(log);
  const metrics = new Metrics();
  // This instance in its group (docs/scaling.md): the tag its message ids carry, who else is alive.
  const instanceId = instanceIdOf(config);
  const agreement = new YamlAgreement(store, instanceId, log);
  const instance = { id: instanceId, tag: instanceTag(instanceId) };
  setIdOwner(instanceId);
  const startedAt = Date.now();
  let presence: Presence | undefined;
  let handover: Handover | undefined;
  let knownElsewhere: KnownElsewhere | undefined;
  metrics.identify(instance.id, () => presence?.live().length ?? 1);
  const health = new ConsumerHealth(consumers, ops, log, settings.health);
  const attempts = new Attempts(store, health, ops, metrics, log, settings.delivery);
  const dispatcher = new Dispatcher(consumers, attempts, store.health, log);
  metrics.watchShares(() =>
    consumers.all().map((consumer) => ({ consumer: consumer.id, ...dispatcher.shares.of(consumer) })),
  );
  const stats = new DeliveryStats(store, log);
  stats.follow(attempts.feed);
  const sweeper = new Sweeper(store, dispatcher, config.delivery.sweepSchedule, metrics, log);
  dispatcher.refill = () => sweeper.sweepSoon();
  const purger = new Purger(store, config.storage.retention, config.storage.purgeSchedule, log);
  const liveIds = () => presence?.live().map((seen) => seen.id) ?? [instanceId];
  const tasks = new Tasks(store, consumers, dispatcher, log, instanceId, liveIds);
  let pipeline: Pipeline | undefined;
  const loadConsumers = async (next: HooksdConfig, nextSettings: PartSettings, loaded: Pipeline) => {
    const hidden = await consumers.load(next.consumers, nextSettings.consumerDefaults, loaded);
    if (hidden.length > 0) {
      log.warn(
        { consumers: hidden },
        'the config file defines consumers with the ids of API consumers: the config file wins, the API ones are ' +
          'hidden',
      );
    }
  };
  let nats: NatsHandle | undefined;
  let ingest: Ingest | undefined;
  let draining = false;

  const group = new Group(instance, log, groupKey(config.server.auth.tokens.map((entry) => entry.token)));
  const routes = new RouteTable(group);
  healthRoutes(routes, () => {
    const checks = {
      store: store.isOpen && store.health.healthy,
      nats: nats !== undefined && nats.connected && ingest !== undefined,
      draining,
    };
    // Every failing check says why.
    const storeProblem = !store.isOpen ? 'the store is not open' : store.health.reason;
    const natsProblem =
      nats === undefined
        ? 'not connected yet'
        : !nats.connected
          ? 'the connection is lost; reconnecting'
          : store.control.isOpen
            ? 'connected; ingest is starting'
            : `connected; opening the control bucket ${config.nats.controlBucket}`;
    const problems = {
      ...(checks.store ? {} : { store: storeProblem ?? 'the store cannot be written' }),
      ...(checks.nats ? {} : { nats: natsProblem }),
      ...(draining ? { draining: 'hooksd is stopping: it takes no new work' } : {}),
    };
    const yaml = agreement.problem();
    const details: Record<string, string> = yaml === undefined ? {} : { config: yaml };
    const instances = { self: instance.id, live: presence?.live().map((seen) => seen.id) ?? [instance.id] };
    return { ready: checks.store && checks.nats && !draining, checks, problems, details, instances };
  });
  store.health.onChange = (failure) => {
    if (failure === undefined)
      log.info({ path: store.path }, 'the store can be written again: ingest and delivery resume');
    else
      log.error(
        { path: store.path, reason: failure },
        'the store cannot be written: ingest and delivery wait, retrying every 2 s',
      );
  };
  descriptionRoutes(routes, metrics, packageVersion());
  whoamiRoutes(routes);
  instanceRoutes(routes, instanceId, () =>
    (presence?.live() ?? [{ ...instance, startedAt: startedAt, lastSeen: Date.now() }]).map((seen) => ({
      ...seen,
      sameYaml: agreement.agreesWith(seen.id),
    })),
  );
  eventTypeRoutes(routes, () => settings.ingest.catalog.list());
  // The API checks events as ingest does, against the running catalog, without importing ingest.
  const checkEvent = (eventType: string, payload: unknown) =>
    settings.ingest.catalog.judge(eventType, payload, settings.ingest.unknownTypes);
  const { subjects } = config.nats;
  eventRoutes(routes, {
    store,
    consumers,
    dispatcher,
    subjects,
    jetstream: () => nats?.js,
    checkEvent,
  });
  messageRoutes(routes, store, consumers, dispatcher, log);
  const policy = {
    guard: () => settings.delivery.guard,
    eventTypes: () => settings.ingest.catalog.list().map((type) => type.name),
    unknownTypes: () => settings.ingest.unknownTypes,
  };
  consumerRoutes(routes, { consumers, health, policy, log });
  taskRoutes(routes, { store, consumers, dispatcher, tasks, eventType: (name) => settings.ingest.catalog.get(name) });
  deadLetterRoutes(routes, { store, consumers, dispatcher, subjects, checkEvent, log });
  const endLiveStreams = liveRoutes(routes, attempts.feed);
  opsEventRoutes(routes, ops);
  statsRoutes(routes, { stats, consumers, store });
  const api = buildApiServer({
    listen: config.server.listen,
    tokens: config.server.auth.tokens,
    router: routes.router,
    log,
    pages: consoleFiles(builtConsoleDir()),
  });

  /** On a graceful stop, the pending retries go to the live instances; with none alive they stay here. */
  const handOverRetries = async () => {
    if (handover === undefined || presence === undefined || nats === undefined || !nats.connected) return;
    // Messages that never left their event's fan-out record are due now: hand them over too.
    await store.writeOutFanouts();
    const pending = store.countStatus('attempting') + store.countStatus('sending');
    if (pending === 0) return;
    const others = presence.others();
    if (others === 0) {
      log.info({ pending }, 'no other instance is alive: the pending retries stay here until this one starts again');
      return;
    }
    const { handed, kept } = await handover.handOver(Date.now() + config.shutdown.timeout);
    log.info({ handed, kept, instances: others }, 'handed the pending retries over to the live instances');
  };

  return {
    store,
    routes,
    async start() {
      pipeline = await Pipeline.load(config, deps.configFile);
      if (await store.start())
        log.info({ path: config.storage.path }, 'counted the stored messages by status and consumer, once');
      await stats.load();
      stats.start();
      await pipeline.start();
      store.onStatusCounts = metrics.followStatuses(() => store.countStatus('attempting'));
      metrics.watchStore(() => store.operations);
      const url = await api.start();
      nats = await openNats(config, log, () => draining);
      ops.attach(nats.nc);
      const { controlBucket: bucket, failFast, replicas } = config.nats;
      await store.control.open(nats.nc, { bucket, replicas, failFast, stopping: () => draining }, log);
      await carryOverLegacyControl(store, instanceId, log);
      const workers = config.delivery.workers ?? defaultWorkers();
      if (workers > 0) {
        const pool = new DeliveryPool(workers, log);
        attempts.pool = pool;
        await pool.ready();
        consumers.agentsClosed = (agent) => pool.forget(agent);
        log.info({ workers }, 'requests are sent from worker threads (delivery.workers)');
      }
      await loadConsumers(config, settings, pipeline);
      await agreement.publish(config.consumers);
      presence = new Presence(nats.nc, presenceSubject(config.nats.stream), instance, log);
      // Answering before it announces itself: the others may ask as soon as they hear it.
      group.join(nats.nc, presence, (id) => apiSubject(config.nats.stream, id));
      presence.start();
      presence.watch((live) => dispatcher.setLiveInstances(live, instance.id));
      knownElsewhere = new KnownElsewhere(
        nats.nc,
        storedEventsSubject(config.nats.stream),
        instanceId,
        store,
        presence,
        log,
      );
      knownElsewhere.start();
      await ensureStreamAndConsumer(nats, config, log);
      metrics.watchNats(nats.jsm, config.nats.stream, config.nats.durable);
      sweeper.start();
      purger.start();
      const { stream, durable, subjects, ackWait } = config.nats;
      const source = { stream, durable, subjects, ackWait };
      ingest = new Ingest(nats, store, consumers, dispatcher, metrics, log, source, settings.ingest);
      const others = knownElsewhere;
      ingest.knownElsewhere = (ids) => others.which(ids);
      await ingest.start();
      handover = new Handover(nats, store, dispatcher, log, instance.id, {
        stream,
        durable,
        replicas: config.nats.replicas,
      });
      handover.start();
      await tasks.start();
      const counts = { consumers: consumers.all().length, eventTypes: settings.ingest.catalog.list().length };
      log.info({ url, ...counts, transport: pipeline.transport.name }, 'hooksd ready');
      return url;
    },
    async reload(next) {
      const replaced = pipeline;
      const nextSettings = partSettings(next);
      const loaded = await Pipeline.load(next, deps.configFile);
      await loaded.start();
      await loadConsumers(next, nextSettings, loaded);
      if (store.control.isOpen) await agreement.publish(next.consumers);
      pipeline = loaded;
      const needRestart = sectionsNeedingRestart(running, next);
      if (needRestart.length > 0)
        log.warn({ sections: needRestart }, 'these sections changed and apply after a restart');
      if (JSON.stringify(next.delivery.transport) !== JSON.stringify(running.delivery.transport))
        log.info(
          { transport: loaded.transport.name },
          'the next requests are sent on this transport (delivery.transport)',
        );
      running = next;
      settings = nextSettings;
      health.settings = settings.health;
      attempts.settings = settings.delivery;
      if (ingest !== undefined) ingest.settings = settings.ingest;
      await replaced?.stop();
    },
    async stop() {
      draining = true;
      await ingest?.stop();
      await handover?.stop();
      await tasks.stop();
      await sweeper.stop();
      await purger.stop();
      await dispatcher.stop(config.shutdown.timeout);
      // No request starts here any more: the others take this instance's share of the limits.
      presence?.leave();
      await health.idle();
      await handOverRetries();
      // Answering until the others have heard it leave.
      await presence?.stop();
      group.leave();
      knownElsewhere?.stop();
      endLiveStreams();
      await api.stop();
      await agreement.stop();
      await store.control.stop();
      await nats?.stop();
      await stats.stop();
      await store.stop();
      await pipeline?.stop();
      consumers.stop();
      await attempts.pool?.close();
      log.info('hooksd stopped');
    },
  };
}
