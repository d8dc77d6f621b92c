import type { BatchOp, Keyspace } from './keyspace.js';

interface PendingWrite {
  ops: BatchOp[];
  sync: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Atomic writes with group commit: writes that arrive while another is in progress are
 * merged into the next batch, so many small writers cost one LevelDB write, and with `sync`
 * one fsync, between them. A failed batch rejects every write merged into it and nothing
 * else: the next batch is tried as usual.
 */
export class GroupCommit {
  /** Told about each batch once it is written. */
  onWritten: ((ops: readonly BatchOp[]) => void) | undefined;
  private pending: PendingWrite[] = [];
  private writing = false;

  constructor(private readonly space: Keyspace) {}

  write(ops: BatchOp[], sync = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, sync, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  /** Resolves once no write is in progress. */
  async idle(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setImmediate(resolve));
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      const ops = group.length === 1 ? group[0].ops : group.flatMap((w) => w.ops);
      try {
        await this.space.db.batch(ops, { sync: group.some((w) => w.sync) });
        this.onWritten?.(ops);
        for (const w of group) w.resolve();
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    this.writing = false;
  }
}
