/**
 * `npm run bench [-- options]`: hooksd beside two bare delivery loops (got, node:http), in
 * alternating rounds, then the backlog scenario; a summary table at the end and every figure
 * in bench/results/<time>.json.
 *
 *   --quick              smaller counts, one round, fewer scenarios (under a minute)
 *   --rounds N           rounds per scenario (default 3, quick 1)
 *   --scenario a,b       only these scenarios (names in bench/scenarios.ts); "backlog" included
 *   --systems a,b        only these of hooksd, workers, node, got, http (workers: hooksd with --workers delivery
 *                        workers; node: hooksd with delivery.transport: node)
 *   --workers N          delivery.workers of the "workers" system (default 2); "hooksd" runs with the default
 *   --backlog 10000,...  backlog levels (default 10k, 100k, 1M; quick 10k)
 *   --events N           events per scenario run, and due messages per backlog step (overrides the defaults)
 *   --out FILE           where to write the JSON (default bench/results/<time>.json)
 *   --profile            run hooksd under node --cpu-prof; profiles go to bench/results/profiles
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { runBacklog, type BacklogStep } from './backlog.js';
import { isHooksd, runOnce, SYSTEMS, type BenchContext, type RunResult, type System } from './measure.js';
import { defaultWorkers } from '../daemon/dispatch/delivery-pool.js';
import { REPO, startNatsServer, startReceiver } from './processes.js';
import { SCENARIOS } from './scenarios.js';
import { fmt, median, ratio } from './stats.js';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    scenario: { type: 'string' },
    systems: { type: 'string' },
    workers: { type: 'string' },
    backlog: { type: 'string' },
    events: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const quick = options.quick as boolean;
const rounds = Number(options.rounds ?? (quick ? 1 : 3));
const only = options.scenario?.split(',');
const unknownScenarios = only?.filter((name) => name !== 'backlog' && !SCENARIOS.some((s) => s.name === name)) ?? [];
if (unknownScenarios.length > 0) {
  console.error(
    `bench: no scenario ${unknownScenarios.map((n) => `"${n}"`).join(', ')} ` +
      `(known: ${[...SCENARIOS.map((s) => s.name), 'backlog'].join(', ')})`,
  );
  process.exit(2);
}
const unknownSystems = options.systems?.split(',').filter((name) => !SYSTEMS.includes(name as System)) ?? [];
if (unknownSystems.length > 0) {
  console.error(`bench: no system ${unknownSystems.map((n) => `"${n}"`).join(', ')} (known: ${SYSTEMS.join(', ')})`);
  process.exit(2);
}
const systems = (options.systems?.split(',') ?? SYSTEMS) as System[];
const workers = Number(options.workers ?? 2);
if (!Number.isInteger(workers) || workers < 0) {
  console.error(`bench: --workers must be a whole number, not "${options.workers}"`);
  process.exit(2);
}
const backlogLevels = options.backlog?.split(',').map(Number) ?? (quick ? [10_000] : [10_000, 100_000, 1_000_000]);
const eventsOverride = options.events === undefined ? undefined : Number(options.events);
const scenarios = SCENARIOS.filter((s) => (only ? only.includes(s.name) : !quick || s.quick));
const runBacklogScenario = only ? only.includes('backlog') : true;
const resultsDir = path.join(REPO, 'bench', 'results');
const cpuProfDir = options.profile ? path.join(resultsDir, 'profiles') : undefined;

const interactive = process.stderr.isTTY;
let lastProgress = 0;
function progress(text: string): void {
  if (interactive) {
    process.stderr.write(`\r\x1b[K${text}`);
  } else if (Date.now() - lastProgress > 2000) {
    lastProgress = Date.now();
    process.stderr.write(text + '\n');
  }
}
function say(text: string): void {
  if (interactive) process.stderr.write('\r\x1b[K');
  process.stderr.write(text + '\n');
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hooksd-bench-'));
  mkdirSync(resultsDir, { recursive: true });
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const nats = await startNatsServer(path.join(tmp, 'nats'));
  const receiver = await startReceiver();
  const nc = await connect({ servers: nats.url });
  const runs: RunResult[] = [];
  let backlog: BacklogStep[] = [];
  let runNumber = 0;
  const context = (): BenchContext => ({
    natsUrl: nats.url,
    js: nc.jetstream(),
    jsm: jsmHolder,
    receiver,
    dir: path.join(tmp, `run-${++runNumber}`),
    quick,
    events: eventsOverride,
    workers,
    cpuProfDir,
    progress,
  });
  const jsmHolder = await nc.jetstreamManager();
  try {
    for (const scenario of scenarios) {
      for (let round = 0; round < rounds; round++) {
        // Alternate who goes first, so that no system always runs on a warmer (or more fragmented) machine.
        const order = systems.map((_, i) => systems[(i + round) % systems.length]);
        for (const system of order) {
          const ctx = context();
          const result = await runOnce(ctx, system, scenario);
          rmSync(ctx.dir, { recursive: true, force: true });
          runs.push(result);
          say(
            `${scenario.name} round ${round + 1} ${system}: ${fmt(result.deliveriesPerSec)}/s, ` +
              `p99 ${fmt(result.latencyMs.p99, 1)} ms, ${fmt(result.cpuSecondsPer1000, 3)} CPU s/1000, ` +
              (isHooksd(system) ? `${fmt(result.storeOpsPerDelivery, 2)} store ops, ` : '') +
              `${fmt(result.promotedKbPerDelivery, 1)} kB promoted per delivery, ` +
              `peak RSS ${fmt(result.peakRssMb)} MB` +
              (result.timedOut ? ` (TIMED OUT at ${result.delivered}/${result.expected})` : ''),
          );
        }
      }
    }
    if (runBacklogScenario) {
      const ctx = context();
      backlog = await runBacklog(ctx, backlogLevels, eventsOverride ?? (quick ? 1000 : 5000));
      rmSync(ctx.dir, { recursive: true, force: true });
    }
  } finally {
    await nc.close();
    await receiver.stop();
    await nats.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const summary = summarise(runs);
  const file =
    options.out ??
    path.join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { startedAt, machine: machine(), quick, rounds, workers: deliveryWorkers(), summary, backlog, runs },
      null,
      2,
    ) + '\n',
  );
  say('');
  printTable(summary, backlog);
  say(`\nAll figures: ${path.relative(process.cwd(), file)}`);
}

interface ScenarioSummary {
  scenario: string;
  title: string;
  /** Medians over the rounds, per system. */
  perSecond: Partial<Record<System, number>>;
  cpuPer1000: Partial<Record<System, number>>;
  storeOpsPerDelivery: Partial<Record<System, number>>;
  promotedKbPerDelivery: Partial<Record<System, number>>;
  allocatedKbPerDelivery: Partial<Record<System, number>>;
  p50: Partial<Record<System, number>>;
  p95: Partial<Record<System, number>>;
  p99: Partial<Record<System, number>>;
  peakRssMb: Partial<Record<System, number>>;
  hooksdVsGot: number;
  hooksdVsHttp: number;
  /** The `workers` system's deliveries/s over hooksd's (default workers). */
  workersVsHooksd: number;
  /** The `node` system's (delivery.transport: node) deliveries/s over hooksd's (got). */
  nodeVsHooksd: number;
  incompleteRuns: number;
}

function summarise(runs: RunResult[]): ScenarioSummary[] {
  return scenarios.map((scenario) => {
    const of = (system: System) => runs.filter((r) => r.scenario === scenario.name && r.system === system);
    const med = (pick: (r: RunResult) => number) =>
      Object.fromEntries(systems.map((s) => [s, median(of(s).map(pick))]));
    const perSecond = med((r) => r.deliveriesPerSec);
    return {
      scenario: scenario.name,
      title: scenario.title,
      perSecond,
      cpuPer1000: med((r) => r.cpuSecondsPer1000),
      storeOpsPerDelivery: med((r) => r.storeOpsPerDelivery),
      promotedKbPerDelivery: med((r) => r.promotedKbPerDelivery),
      allocatedKbPerDelivery: med((r) => r.allocatedKbPerDelivery),
      p50: med((r) => r.latencyMs.p50),
      p95: med((r) => r.latencyMs.p95),
      p99: med((r) => r.latencyMs.p99),
      peakRssMb: med((r) => r.peakRssMb),
      hooksdVsGot: ratio(perSecond.hooksd, perSecond.got),
      hooksdVsHttp: ratio(perSecond.hooksd, perSecond.http),
      workersVsHooksd: ratio(perSecond.workers, perSecond.hooksd),
      nodeVsHooksd: ratio(perSecond.node, perSecond.hooksd),
      incompleteRuns: runs.filter((r) => r.scenario === scenario.name && r.timedOut).length,
    };
  });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [
    line(header),
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    ...rows.map(line),
  ].join('\n');
}

/** The delivery.workers of each hooksd system: the default follows the cores this process may use. */
function deliveryWorkers(): { hooksd: number; workers: number; cores: number } {
  const cores = os.availableParallelism();
  return { hooksd: defaultWorkers(cores), workers, cores };
}

function printTable(summary: ScenarioSummary[], backlog: BacklogStep[]): void {
  say(`Medians of ${rounds} round(s); deliveries/s counted at the receiver, first to last arrival.`);
  const { hooksd: ownWorkers, cores } = deliveryWorkers();
  say(`delivery.workers: hooksd ${ownWorkers} (the default with ${cores} cores available), workers ${workers}.\n`);
  say(
    table(
      [
        'scenario',
        'hooksd/s',
        'workers/s',
        'workers/hooksd',
        'node/s',
        'node/hooksd',
        'got/s',
        'http/s',
        'hooksd/got',
        'hooksd/http',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'CPU s/1k hooksd',
        'workers',
        'node',
        'got',
        'http',
        'ops/dlv',
        'promoted kB/dlv hooksd',
        'node',
        'got',
        'http',
        'RSS MB',
      ],
      summary.map((s) => [
        s.scenario + (s.incompleteRuns > 0 ? ` (${s.incompleteRuns} incomplete)` : ''),
        fmt(s.perSecond.hooksd),
        fmt(s.perSecond.workers),
        fmt(s.workersVsHooksd, 2),
        fmt(s.perSecond.node),
        fmt(s.nodeVsHooksd, 2),
        fmt(s.perSecond.got),
        fmt(s.perSecond.http),
        fmt(s.hooksdVsGot, 2),
        fmt(s.hooksdVsHttp, 2),
        fmt(s.p50.hooksd, 1),
        fmt(s.p95.hooksd, 1),
        fmt(s.p99.hooksd, 1),
        fmt(s.cpuPer1000.hooksd, 3),
        fmt(s.cpuPer1000.workers, 3),
        fmt(s.cpuPer1000.node, 3),
        fmt(s.cpuPer1000.got, 3),
        fmt(s.cpuPer1000.http, 3),
        fmt(s.storeOpsPerDelivery.hooksd, 2),
        fmt(s.promotedKbPerDelivery.hooksd, 1),
        fmt(s.promotedKbPerDelivery.node, 1),
        fmt(s.promotedKbPerDelivery.got, 1),
        fmt(s.promotedKbPerDelivery.http, 1),
        fmt(s.peakRssMb.hooksd),
      ]),
    ),
  );
  const latencyRow = summary.find((s) => s.scenario === 'latency-1000');
  if (latencyRow)
    say(
      `\nLatency at 1,000 events/s (p50/p95/p99 ms): hooksd ` +
        `${fmt(latencyRow.p50.hooksd, 1)}/${fmt(latencyRow.p95.hooksd, 1)}/${fmt(latencyRow.p99.hooksd, 1)}, ` +
        `got-loop ${fmt(latencyRow.p50.got, 1)}/${fmt(latencyRow.p95.got, 1)}/${fmt(latencyRow.p99.got, 1)}, ` +
        `http-loop ${fmt(latencyRow.p50.http, 1)}/${fmt(latencyRow.p95.http, 1)}/${fmt(latencyRow.p99.http, 1)}`,
    );
  if (backlog.length > 0) {
    say('\nBacklog (hooksd only): messages pending, not yet due; a batch falls due and is swept.\n');
    say(
      table(
        [
          'pending',
          'parked/s',
          'idle CPU ms/s',
          'due',
          'sweep CPU ms/due',
          'due delivered/s',
          'RSS MB',
          'peak RSS MB',
          'store MB',
        ],
        backlog.map((b) => [
          String(b.pending),
          fmt(b.parkedPerSec),
          fmt(b.idleCpuMsPerSec, 1),
          String(b.due),
          fmt(b.sweepCpuMsPerDue, 3),
          fmt(b.dueDeliveredPerSec),
          fmt(b.rssMb),
          fmt(b.peakRssMb),
          fmt(b.storeMb),
        ]),
      ),
    );
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    say(String(error?.stack ?? error));
    process.exit(1);
  },
);
