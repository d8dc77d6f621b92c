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
/** What a batch adds to itself before it is written, and what to do once it was. */
export type BatchExtension = (ops: readonly BatchOp[]) => { extra: BatchOp[]; written: () => void } | undefined;

export class GroupCommit {
  /** Sees each batch before it is written: may add operations to it, and is told when it was written. */
  extend: BatchExtension | undefined;
  /** Told whether each batch was written; a failure gives the error the batch's writers see. */
  outcome: { succeeded(): void; failed(error: unknown): unknown } | undefined;
  /** LevelDB operations (puts and deletes) written so far, extensions included. */
  operations = 0;
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
      const extension = this.extend?.(ops);
      try {
        const batch = extension ? [...ops, ...extension.extra] : ops;
        await this.space.db.batch(batch, { sync: group.some((w) => w.sync) });
        this.operations += batch.length;
        extension?.written();
        this.outcome?.succeeded();
        for (const w of group) w.resolve();
      } catch (error) {
        const seen = this.outcome?.failed(error) ?? error;
        for (const w of group) w.reject(seen);
      }
    }
    this.writing = false;
  }
}
