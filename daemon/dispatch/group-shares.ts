import type { Logger } from 'pino';

/** Where this instance stands in its group: how many instances are live, and its place among them (by id). */
export interface GroupPlace {
  size: number;
  /** 0 … size - 1: this instance's index among the live instances sorted by id. */
  rank: number;
}

/** A consumer's configured limits, as the group shares them. */
export interface GroupLimits {
  id: string;
  rateLimit?: number;
  concurrency: number;
}

/** This instance's part of the group's limits for one consumer. */
export interface Share {
  /** Requests per second at most (fractional), or undefined for no limit. */
  rateLimit?: number;
  concurrency: number;
}

/** Each live instance takes an equal part of the consumer's rate. */
export function rateShare(rateLimit: number | undefined, group: GroupPlace): number | undefined {
  return rateLimit === undefined ? undefined : rateLimit / group.size;
}

/**
 * Each live instance takes floor(concurrency / size) requests in flight; the remainder goes one
 * each to as many instances, which ones turning with the consumer id so that one instance does
 * not take every consumer's remainder. The parts add up to the consumer's concurrency, except
 * when it is below the number of instances: then each instance still takes 1, so none of them
 * leaves its messages waiting.
 */
export function concurrencyShare(concurrency: number, consumerId: string, group: GroupPlace): number {
  const base = Math.floor(concurrency / group.size);
  const extra = concurrency % group.size;
  const turn = (group.rank + idHash(consumerId)) % group.size;
  return Math.max(1, base + (turn < extra ? 1 : 0));
}

/** A small stable hash of the id (FNV-1a), the same on every instance. */
function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * The consumers' rateLimit and concurrency hold for the whole group: this instance applies its
 * share of them, recomputed when presence sees an instance join or leave (main wires it). A lone
 * instance's share is the whole limit.
 */
export class GroupShares {
  private place: GroupPlace = { size: 1, rank: 0 };

  constructor(private readonly log: Logger) {}

  get group(): Readonly<GroupPlace> {
    return this.place;
  }

  of(consumer: GroupLimits): Share {
    if (this.place.size === 1) return { rateLimit: consumer.rateLimit, concurrency: consumer.concurrency };
    return {
      rateLimit: rateShare(consumer.rateLimit, this.place),
      concurrency: concurrencyShare(consumer.concurrency, consumer.id, this.place),
    };
  }

  /**
   * Takes the ids of the live instances (this one among them); true when this instance's place
   * changed, and then logs the new shares of the consumers that have limits.
   */
  setLive(liveIds: readonly string[], self: string, consumers: readonly GroupLimits[]): boolean {
    const sorted = [...new Set([...liveIds, self])].sort();
    const next = { size: sorted.length, rank: sorted.indexOf(self) };
    if (next.size === this.place.size && next.rank === this.place.rank) return false;
    this.place = next;
    const shares = consumers
      .filter((consumer) => consumer.rateLimit !== undefined || consumer.concurrency > 1)
      .map((consumer) => {
        const { rateLimit, concurrency } = this.of(consumer);
        const rounded = rateLimit === undefined ? undefined : Math.round(rateLimit * 1000) / 1000;
        return { consumerId: consumer.id, rateLimit: rounded, concurrency };
      });
    this.log.info(
      { instances: next.size, shares },
      "the live instances changed: each consumer's rateLimit and concurrency are shared anew",
    );
    return true;
  }
}
