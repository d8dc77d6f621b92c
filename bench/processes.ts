/**
 * Starting and stopping the processes a benchmark run measures: nats-server, the receiver,
 * hooksd (the real `bin/hooksd.js start`) and the baseline loops. Each runs in its own
 * process so that its CPU time and memory can be read from /proc.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { stringify } from 'yaml';
import type { BaselineSettings } from './baseline-loop.js';
import type { ReceiverCommand, ReceiverReply, PathReport } from './receiver.js';
import type { Scenario } from './scenarios.js';

/** The repository root (this file runs from dist/bench/). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Child {
  pid: number;
  /** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
  /** Totals of the GC lines the process printed so far (when it runs with --trace-gc-nvp). */
  gc(): GcTotals;
}

/** Sums over V8's `--trace-gc-nvp` lines: one line per collection, young (scavenge) or full (mark-compact). */
export interface GcTotals {
  /** Bytes moved from the young generation to the old one. */
  promoted: number;
  /** Bytes allocated between collections. */
  allocated: number;
  scavenges: number;
  markCompacts: number;
}

/** The flag that makes V8 print one line of name=value pairs per collection, read by `track`. */
export const GC_TRACE_FLAG = '--trace-gc-nvp';

/** Adds one `--trace-gc-nvp` line to `totals`; other lines are left alone. */
export function addGcLine(totals: GcTotals, line: string): void {
  const kind = / gc=(\w+) /.exec(line)?.[1];
  if (kind === undefined) return;
  totals.promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  totals.allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
  if (kind === 's') totals.scavenges += 1;
  else if (kind === 'mc') totals.markCompacts += 1;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function track(child: ChildProcess): Child & { exited: Promise<void>; lines: () => string[] } {
  let output = '';
  const gc: GcTotals = { promoted: 0, allocated: 0, scavenges: 0, markCompacts: 0 };
  // GC lines are counted as they come and kept out of `output`, which holds the last 200 kB of the rest.
  let partial = '';
  child.stdout?.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() as string;
    const kept = lines.filter((line) => {
      if (!line.includes(' gc=')) return true;
      addGcLine(gc, line);
      return false;
    });
    if (kept.length > 0) output = (output + kept.join('\n') + '\n').slice(-200_000);
  });
  child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid as number,
    exited,
    output: () => output + partial,
    gc: () => ({ ...gc }),
    lines: () => output.split('\n'),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForLine(
  child: ReturnType<typeof track>,
  test: (line: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void child.exited.then(() => (done = true));
  while (Date.now() < deadline) {
    for (const line of child.lines()) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line);
        if (test(parsed)) return parsed;
      } catch {
        // A line still being written.
      }
    }
    if (done) throw new Error(`${what} exited before it was ready:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${child.output()}`);
}

/** nats-server with JetStream, its store in `dir`, on a free loopback port. */
export async function startNatsServer(dir: string): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = track(
    spawn('nats-server', ['-js', '-sd', dir, '-p', String(port), '-a', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.jetstreamManager();
      await nc.close();
      return { ...child, url };
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`nats-server did not start: ${(error as Error).message}\n${child.output()}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export interface ReceiverProcess extends Child {
  url: string;
  configure(delayMs: number, failPaths: string[]): void;
  reset(): void;
  count(): Promise<number>;
  report(): Promise<Record<string, PathReport>>;
}

export async function startReceiver(): Promise<ReceiverProcess> {
  const child = fork(path.join(HERE, 'receiver.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const tracked = track(child);
  const next = <T extends ReceiverReply['type']>(type: T) =>
    new Promise<Extract<ReceiverReply, { type: T }>>((resolve) => {
      const listener = (reply: ReceiverReply) => {
        if (reply.type !== type) return;
        child.off('message', listener);
        resolve(reply as Extract<ReceiverReply, { type: T }>);
      };
      child.on('message', listener);
    });
  const send = (command: ReceiverCommand) => child.send(command);
  const { url } = await next('ready');
  return {
    ...tracked,
    url,
    configure: (delayMs, failPaths) => send({ type: 'configure', delayMs, failPaths }),
    reset: () => send({ type: 'reset' }),
    async count() {
      const reply = next('count');
      send({ type: 'count' });
      return (await reply).total;
    },
    async report() {
      const reply = next('report');
      send({ type: 'report' });
      return (await reply).paths;
    },
  };
}

export interface HooksdSettings {
  dir: string;
  natsUrl: string;
  receiverUrl: string;
  scenario: Pick<Scenario, 'eventTypes' | 'consumers'>;
  /** Extra `delivery` keys, e.g. sweepSchedule. */
  delivery?: Record<string, unknown>;
}

/** Writes a hooksd config for a scenario into `dir` and returns its path. */
export async function writeHooksdConfig(settings: HooksdSettings): Promise<string> {
  const file = path.join(settings.dir, 'hooks.config.yaml');
  const config = {
    server: { listen: `127.0.0.1:${await freePort()}` },
    nats: { servers: [settings.natsUrl] },
    storage: { path: path.join(settings.dir, 'data') },
    delivery: { network: { allowCidrs: ['127.0.0.0/8'] }, ...settings.delivery },
    log: { level: 'info' },
    eventTypes: settings.scenario.eventTypes.map((name) => ({ name })),
    consumers: settings.scenario.consumers.map((c) => ({
      id: c.id,
      url: settings.receiverUrl + c.path,
      eventTypes: c.eventTypes,
      ...(c.filter ? { filter: c.filter } : {}),
      ...(c.retrySchedule ? { retrySchedule: c.retrySchedule } : {}),
    })),
  };
  writeFileSync(file, stringify(config));
  return file;
}

/**
 * Starts hooksd as an operator does (`bin/hooksd.js start`), with the shebang's heap flags and
 * environment given to node directly, plus --trace-gc-nvp so that `gc()` can tell the bytes it
 * promoted; under `node --cpu-prof` as well when `cpuProfDir` is given.
 */
export async function startHooksd(configFile: string, cpuProfDir?: string): Promise<Child & { url: string }> {
  const bin = path.join(REPO, 'bin', 'hooksd.js');
  // $BENCH_HOOKSD_NODE_FLAGS replaces the shebang's heap flags, to try other V8 settings.
  const nodeFlags = process.env.BENCH_HOOKSD_NODE_FLAGS?.split(' ').filter(Boolean) ?? shebangFlags(bin);
  const profiling = cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir];
  const args = [...profiling, ...nodeFlags, GC_TRACE_FLAG, bin, 'start', '--config', configFile];
  // The shebang's environment.
  const env = { ...process.env, MALLOC_ARENA_MAX: '2' };
  const child = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  // One that does not get ready is stopped here: the caller never got it to stop.
  const ready = await waitForLine(child, (line) => line.msg === 'hooksd ready', 'hooksd').catch(async (error) => {
    await child.stop(2000);
    throw error;
  });
  return { ...child, url: ready.url as string };
}

/** The node flags on a script's `#!` line (bin/hooksd.js: its heap flags). */
export function shebangFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0];
  return first.split(/\s+/).filter((word) => word.startsWith('--'));
}

export type BaselineKind = 'got' | 'http';

export async function startBaseline(kind: BaselineKind, settings: BaselineSettings): Promise<Child> {
  const child = track(
    spawn(process.execPath, [GC_TRACE_FLAG, path.join(HERE, `baseline-${kind}.js`)], {
      env: { ...process.env, BENCH_BASELINE: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await waitForLine(child, (line) => line.msg === 'baseline ready', `${kind} baseline`);
  return child;
}
