import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import { freePort } from './nats.js';
import { reapOnExit, signalGroup } from './reaper.js';
import { recordCredentials, recordLog } from './suite-record.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(REPO, 'bin', 'hooksd.js');

/** A temporary folder removed when the test ends. */
export function tempDir(t: Test, name = 'hooksd'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Calls the API at `url`; the body is parsed as JSON when there is one. */
export type Api = <T = any>(pathAndQuery: string, init?: RequestInit) => Promise<{ status: number; body: T }>;

export function apiClient(url: string): Api {
  return async (pathAndQuery, init) => {
    const res = await fetch(url + pathAndQuery, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** A request with a JSON body, when there is a body: a string is sent as it is, anything else as JSON. */
export function json(method: string, body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

export interface Daemon {
  url: string;
  pid: number;
  configFile: string;
  output: () => string;
  /** Logged JSON lines so far. */
  logs: () => Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  api: Api;
}

/** How long teardown lets hooksd drain after SIGTERM before it kills it. */
const STOP_GRACE_MS = 5_000;

/** The default pipeline with every retry at exactly its scheduled delay, for tests that time retries. */
export const PIPELINE_WITHOUT_JITTER = [
  'eventTypes',
  'payloadFilter',
  'script',
  'standardWebhooks',
  { use: 'schedule', options: { jitter: 0 } },
];

/**
 * `delivery.workers` from HOOKSD_TEST_DELIVERY_WORKERS, when set: the delivery suites run again
 * with requests sent from worker threads (test/workers); a test's own setting wins.
 */
function forcedWorkers(): { workers?: number } {
  const forced = process.env.HOOKSD_TEST_DELIVERY_WORKERS;
  return forced === undefined || forced === '' ? {} : { workers: Number(forced) };
}

/**
 * `delivery.transport` from HOOKSD_TEST_TRANSPORT, when set: the delivery suites run again on
 * the node transport (test/transport-node); a test's own setting wins.
 */
function forcedTransport(): { transport?: string } {
  const forced = process.env.HOOKSD_TEST_TRANSPORT;
  return forced === undefined || forced === '' ? {} : { transport: forced };
}

/**
 * Writes `config` to `dir/hooks.config.yaml`, with storage in `dir`, the API on a free
 * loopback port, and loopback receivers allowed, unless the config says otherwise.
 */
export async function writeConfig(dir: string, config: Record<string, any>): Promise<string> {
  const file = path.join(dir, 'hooks.config.yaml');
  const full = {
    ...config,
    server: { listen: `127.0.0.1:${await freePort()}`, ...config.server },
    storage: { path: path.join(dir, 'data'), ...config.storage },
    delivery: {
      network: { allowCidrs: ['127.0.0.0/8'] },
      ...forcedWorkers(),
      ...forcedTransport(),
      ...config.delivery,
    },
    log: { level: 'info', ...config.log },
  };
  writeFileSync(file, stringify(full));
  recordCredentials(full);
  return file;
}

/**
 * Starts the built daemon (`bin/hooksd.js start`) and waits for its ready line. It runs in a
 * process group of its own. Teardown sends hooksd SIGTERM (SIGKILL after a grace period), then
 * SIGKILL to whatever is left in the group: the embedded nats-server of a hooksd that was
 * killed. Should this test process be killed itself, a watchdog stops the group (reaper.ts).
 */
export async function startDaemon(
  t: Test,
  configFile: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Daemon> {
  // Run as the operator does: the bin script's shebang sets the heap limits.
  const [command, args] = nodeArgs.length === 0 ? [BIN, []] : [process.execPath, [...nodeArgs, BIN]];
  const child = spawn(command, [...args, 'start', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const group = -child.pid!;
  const forget = reapOnExit(group);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  t.teardown(async () => {
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // Whatever hooksd left in its group (an embedded nats-server, when hooksd was killed).
    signalGroup(group, 'SIGKILL');
    forget();
    recordLog(output);
  });
  const url = await waitForReady(child, () => output, exited);
  return {
    url,
    pid: child.pid as number,
    configFile,
    output: () => output,
    logs: () => parseLines(output),
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
    api: apiClient(url),
  };
}

export function parseLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

async function waitForReady(
  child: ChildProcess,
  output: () => string,
  exited: Promise<number | null>,
): Promise<string> {
  // Generous: a busy machine, or a NATS cluster electing its leaders, makes start-up slow.
  const deadline = Date.now() + 60_000;
  let done = false;
  void exited.then(() => (done = true));
  while (Date.now() < deadline) {
    const ready = parseLines(output()).find((line) => line.msg === 'hooksd ready');
    if (ready) return ready.url as string;
    if (done) throw new Error(`hooksd exited before it was ready (code ${child.exitCode}):\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`hooksd was not ready within 60 s:\n${output()}`);
}

/** A NATS client for publishing in tests, closed when the test ends. */
export async function natsClient(t: Test, url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  t.teardown(() => nc.close());
  return nc;
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
