import { statfs } from 'node:fs/promises';
import { HooksdError } from '../common/errors.js';

const PROBE_MS = 2000;
/** Probes that fail while the disk has room before the database is reopened. */
const PROBES_BEFORE_REOPEN = 3;
/** Free space below which a failing probe is put down to a full disk rather than a stuck database. */
const ROOM_BYTES = 16 * 1024 * 1024;

/**
 * Whether the store can be written. A failed write (a full disk, a lost volume) marks it
 * failing, with the reason; the next write that succeeds marks it healthy again. The parts
 * that write pause while it fails, so a small probe write is tried every two seconds to see
 * when it works again. A probe that keeps failing although the disk has room means LevelDB
 * kept the error (as it does after a failed compaction): the database is reopened.
 */
export class WriteHealth {
  /** Told when writes start failing (with the reason) and when they work again (undefined). */
  onChange: ((failure: string | undefined) => void) | undefined;
  private failure: string | undefined;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private probesFailed = 0;

  constructor(
    private readonly path: string,
    private readonly probe: () => Promise<void>,
    private readonly reopen: () => Promise<void>,
  ) {}

  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** Why writes fail, while they do. */
  get reason(): string | undefined {
    return this.failure;
  }

  /** Resolves at once when healthy, else once a write works again. */
  whenHealthy(): Promise<void> {
    return this.healthy ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  succeeded(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    this.probesFailed = 0;
    clearTimeout(this.timer);
    for (const resolve of this.waiters.splice(0)) resolve();
    this.onChange?.(undefined);
  }

  /** Marks writes failing; returns the error writers see. */
  failed(error: unknown): HooksdError {
    const reason = `writing to the store at ${this.path} failed: ${(error as Error).message ?? String(error)}`;
    if (this.failure === undefined) {
      this.failure = reason;
      this.onChange?.(reason);
      this.scheduleProbe();
    }
    return new HooksdError('HOOKSD_STORAGE_UNAVAILABLE', reason);
  }

  /** Stops probing; whoever waits is let go. */
  stop(): void {
    clearTimeout(this.timer);
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private scheduleProbe(): void {
    this.timer = setTimeout(() => void this.tryAgain(), PROBE_MS);
    this.timer.unref();
  }

  private async tryAgain(): Promise<void> {
    try {
      await this.probe();
      this.succeeded();
      return;
    } catch {
      this.probesFailed += 1;
    }
    if (this.probesFailed % PROBES_BEFORE_REOPEN === 0 && (await this.hasRoom())) {
      await this.reopen().catch(() => undefined);
    }
    if (!this.healthy) this.scheduleProbe();
  }

  private async hasRoom(): Promise<boolean> {
    try {
      const { bavail, bsize } = await statfs(this.path);
      return bavail * bsize >= ROOM_BYTES;
    } catch {
      return false;
    }
  }
}
