import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { HooksdError } from '../common/errors.js';

/** nats-server prints this once its client port is listening. */
const READY_LINE = 'Server is ready';
const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
/** How much of nats-server's output is kept for error messages. */
const OUTPUT_LINES_KEPT = 20;

export interface EmbeddedNatsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EmbeddedNatsOptions {
  /** JetStream's store folder (nats-server `-sd`); created if missing. */
  storeDir: string;
  port: number;
  /** Address nats-server listens on; default 127.0.0.1. */
  host?: string;
  logger?: EmbeddedNatsLogger;
  /** How long start() waits for nats-server to report ready; default 10 s. */
  readyTimeoutMs?: number;
}

/**
 * A `nats-server -js` child process, used when no `nats.servers` are configured.
 *
 * start() resolves with the client URL once nats-server reports ready, and rejects with a
 * HooksdError: HOOKSD_NATS_SERVER_MISSING when the binary is not installed,
 * HOOKSD_NATS_UNAVAILABLE when it exits before it is ready (nats-server's own error line is
 * in the message) or is not ready in time (its last output is in the message).
 *
 * stop() is safe to call at any time and any number of times. Should the parent process exit
 * without calling it, the child is sent SIGTERM from a `process.on('exit')` hook.
 *
 * The binary is `nats-server` from PATH unless `HOOKSD_NATS_SERVER_BIN` names another.
 */
export class EmbeddedNats {
  private readonly storeDir: string;
  private readonly host: string;
  private readonly port: number;
  private readonly logger: EmbeddedNatsLogger | undefined;
  private readonly readyTimeoutMs: number;
  private readonly output: string[] = [];
  private child: ChildProcess | undefined;
  private childExited: Promise<void> = Promise.resolve();
  private starting: Promise<string> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: EmbeddedNatsOptions) {
    this.storeDir = path.resolve(options.storeDir);
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.logger = options.logger;
    this.readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  }

  /** The URL clients connect to; a wildcard listen address is reached through loopback. */
  get url(): string {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return `nats://${isIPv6(host) ? `[${host}]` : host}:${this.port}`;
  }

  /** The child's process id while it runs, for diagnostics. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts nats-server; calling it again while it runs returns the same URL. */
  start(): Promise<string> {
    this.starting ??= this.launch().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  /** SIGTERM, then SIGKILL if nats-server has not exited within 5 s. A start in progress is let finish first. */
  stop(): Promise<void> {
    this.stopping ??= this.terminate().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async launch(): Promise<string> {
    try {
      await mkdir(this.storeDir, { recursive: true });
    } catch (err) {
      throw new HooksdError(
        'HOOKSD_NATS_UNAVAILABLE',
        `Cannot create the NATS store directory ${this.storeDir}: ${(err as Error).message}`,
      );
    }
    const bin = process.env.HOOKSD_NATS_SERVER_BIN || 'nats-server';
    const args = ['-js', '-a', this.host, '-p', String(this.port), '-sd', this.storeDir];
    this.output.length = 0;

    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const killOnParentExit = (): void => {
      child.kill('SIGTERM');
    };
    process.on('exit', killOnParentExit);
    this.childExited = new Promise((resolve) => {
      const settle = (): void => {
        process.off('exit', killOnParentExit);
        resolve();
      };
      // A spawn failure emits 'error' and may never emit 'exit'.
      child.once('exit', settle);
      child.once('error', settle);
    });

    const lineListeners = new Set<(line: string) => void>();
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream!, crlfDelay: Infinity }).on('line', (line) => {
        this.record(line);
        for (const listener of lineListeners) listener(line);
      });
    }

    try {
      await this.waitUntilReady(child, bin, args, lineListeners);
    } catch (err) {
      await this.kill(child);
      this.child = undefined;
      throw err;
    }

    child.on('error', (err) => {
      this.logger?.error({ err, pid: child.pid }, 'embedded nats-server process error');
    });
    child.once('exit', (code, signal) => {
      if (this.stopping !== undefined) return;
      this.logger?.error({ code, signal, output: [...this.output] }, 'embedded nats-server exited unexpectedly');
      // Let a later start() launch a new one instead of returning the dead server's URL.
      this.child = undefined;
      this.starting = undefined;
    });
    this.logger?.info({ url: this.url, pid: child.pid, storeDir: this.storeDir }, 'embedded nats-server ready');
    return this.url;
  }

  /**
   * Resolves on nats-server's ready line. Rejects when the binary cannot be spawned, when it
   * exits first, or when the time runs out. 'close' is awaited rather than 'exit' so that the
   * fatal line nats-server printed on its way out has been read.
   */
  private waitUntilReady(
    child: ChildProcess,
    bin: string,
    args: string[],
    lineListeners: Set<(line: string) => void>,
  ): Promise<void> {
    const command = [bin, ...args].join(' ');
    return new Promise<void>((resolve, reject) => {
      const cleanUp = (): void => {
        clearTimeout(timer);
        lineListeners.delete(onLine);
        child.off('error', onError);
        child.off('close', onClose);
      };
      const onLine = (line: string): void => {
        if (!line.includes(READY_LINE)) return;
        cleanUp();
        resolve();
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        cleanUp();
        reject(
          err.code === 'ENOENT'
            ? missingBinaryError(bin)
            : new HooksdError('HOOKSD_NATS_UNAVAILABLE', `Could not run ${bin}: ${err.message}`, { command }),
        );
      };
      const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanUp();
        const reason = this.lastError() ?? `exited with ${signal ?? `code ${code}`}`;
        reject(
          new HooksdError(
            'HOOKSD_NATS_UNAVAILABLE',
            `nats-server stopped before it was ready (${command}): ${reason}`,
            { command, code, signal, output: [...this.output] },
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanUp();
        const seconds = this.readyTimeoutMs / 1000;
        reject(
          new HooksdError(
            'HOOKSD_NATS_UNAVAILABLE',
            `nats-server did not report ready within ${seconds}s (${command}). Its last output:\n` +
              (this.output.length > 0 ? this.output.join('\n') : '(none)'),
            { command, output: [...this.output] },
          ),
        );
      }, this.readyTimeoutMs);

      lineListeners.add(onLine);
      child.on('error', onError);
      child.on('close', onClose);
    });
  }

  private async terminate(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const child = this.child;
    if (child === undefined) return;
    if (isRunning(child)) {
      child.kill('SIGTERM');
      const exitedInTime = await Promise.race([
        this.childExited.then(() => true),
        delay(STOP_GRACE_MS).then(() => false),
      ]);
      if (!exitedInTime) {
        this.logger?.warn(
          { pid: child.pid },
          `embedded nats-server ignored SIGTERM for ${STOP_GRACE_MS / 1000}s; killing it`,
        );
        await this.kill(child);
      }
    }
    await this.childExited;
    this.child = undefined;
    this.starting = undefined;
  }

  private async kill(child: ChildProcess): Promise<void> {
    if (isRunning(child)) child.kill('SIGKILL');
    await this.childExited;
  }

  private record(line: string): void {
    this.output.push(line);
    if (this.output.length > OUTPUT_LINES_KEPT) this.output.shift();
    if (isErrorLine(line)) this.logger?.error({ line }, 'nats-server');
    else if (line.includes('[WRN]')) this.logger?.warn({ line }, 'nats-server');
  }

  /** nats-server's last fatal or error line, without its pid and timestamp prefix. */
  private lastError(): string | undefined {
    const line = [...this.output].reverse().find(isErrorLine);
    return line?.replace(/^.*?\[(FTL|ERR)\]\s*/, '');
  }
}

function missingBinaryError(bin: string): HooksdError {
  const where = process.env.HOOKSD_NATS_SERVER_BIN
    ? `"${bin}" (from HOOKSD_NATS_SERVER_BIN) does not exist`
    : '"nats-server" was not found on PATH';
  return new HooksdError(
    'HOOKSD_NATS_SERVER_MISSING',
    `No nats.servers are configured, so hooksd starts its own nats-server, but ${where}. ` +
      'Install it (Debian/Ubuntu: apt-get install nats-server; elsewhere see https://docs.nats.io) ' +
      'or set nats.servers in the config to use an existing NATS server.',
    { bin },
  );
}

function isErrorLine(line: string): boolean {
  return line.includes('[FTL]') || line.includes('[ERR]');
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
