import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { freePort } from './nats.js';
import { reapOnExit } from './reaper.js';

/** A nats-server the test can kill and start again on the same port and store, as an operator's would crash. */
export interface NatsProcess {
  url: string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store; resolves once it is ready. */
  start(): Promise<void>;
}

/**
 * nats-server with JetStream on `wantedPort` (else a free one), its store in `storeDir`, with
 * `extraArgs` (cluster options) after the usual ones; stopped at the test's end.
 */
export async function startNatsProcess(
  t: Test,
  storeDir: string,
  wantedPort?: number,
  extraArgs: string[] = [],
): Promise<NatsProcess> {
  const port = wantedPort ?? (await freePort());
  let child: ChildProcess | undefined;
  let forget = () => {};
  const start = async () => {
    const spawned = spawn(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...extraArgs],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = spawned;
    forget = reapOnExit(spawned.pid!);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server not ready in 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      spawned.stdout!.on('data', onData);
      spawned.stderr!.on('data', onData);
      spawned.once('exit', (code) => reject(new Error(`nats-server exited with ${code}:\n${output}`)));
    });
  };
  const kill = async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
    forget();
  };
  t.teardown(kill);
  await start();
  return { url: `nats://127.0.0.1:${port}`, kill, start };
}
