import { createHash, randomFillSync } from 'node:crypto';

const TIME_WIDTH = 9; // base36 milliseconds, enough until the year 5138
const SEQ_WIDTH = 4;
const RANDOM_BYTES = 5;
/** Base36 digits of the owner tag: 36^5, some 60 million tags, so instances of one group hardly ever share one. */
const TAG_WIDTH = 5;
/** An id's length after its prefix, without and with an owner tag. */
const UNTAGGED = TIME_WIDTH + SEQ_WIDTH + 2 * RANDOM_BYTES;
const TAGGED = UNTAGGED + TAG_WIDTH;
const pool = Buffer.alloc(2000);
let poolOffset = pool.length;
let lastTime = 0;
let seq = 0;
/** The tag `ownedId` puts in ids: this process's instance (one instance per process). */
let ownerTag = '';

/**
 * Ids that sort by creation time (then by creation order within one millisecond), so a key
 * range over them is a time range and listing newest-first is a reverse scan. `tag`, when
 * given, goes after the time and sequence, so ids of several instances still sort by time.
 */
export function sortableId(prefix: string, now = Date.now(), tag = ''): string {
  if (now === lastTime) {
    seq += 1;
  } else {
    lastTime = now;
    seq = 0;
  }
  return prefix + timePart(now) + seq.toString(36).padStart(SEQ_WIDTH, '0') + tag + randomHex();
}

/**
 * The id of a record an instance owns (a message, a dead letter): a sortable id carrying the
 * owner's tag (`setIdOwner`), so that any instance can tell which one holds the record.
 */
export function ownedId(prefix: string, now = Date.now()): string {
  return sortableId(prefix, now, ownerTag);
}

/** Sets the instance whose tag `ownedId` writes; called once at start. */
export function setIdOwner(instanceId: string): void {
  ownerTag = instanceTag(instanceId);
}

/**
 * An instance's tag: five base36 digits of a hash of its id, so ids stay short and made of
 * [0-9a-z] whatever the instance id (a host name with dots, a pod name).
 */
export function instanceTag(instanceId: string): string {
  const hash = createHash('sha256').update(instanceId).digest();
  return (hash.readUInt32BE(0) % 36 ** TAG_WIDTH).toString(36).padStart(TAG_WIDTH, '0');
}

/**
 * The owner tag of an id made by `ownedId`, or null for an id without one (made before
 * instances had tags: it belongs to the instance that holds it). `prefix` is the id's prefix.
 */
export function ownerTagOf(id: string, prefix: string): string | null {
  if (!id.startsWith(prefix) || id.length - prefix.length !== TAGGED) return null;
  const start = prefix.length + TIME_WIDTH + SEQ_WIDTH;
  return id.slice(start, start + TAG_WIDTH);
}

/** Ten random hex digits, cut from a pool refilled in bulk: one crypto call per 400 ids. */
function randomHex(): string {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += RANDOM_BYTES;
  return pool.toString('hex', poolOffset - RANDOM_BYTES, poolOffset);
}

/** The smallest id of `prefix` created at or after `time`: a lower bound for key ranges. */
export function sortableIdFloor(prefix: string, time: number): string {
  return prefix + timePart(time);
}

function timePart(time: number): string {
  return Math.max(0, Math.floor(time)).toString(36).padStart(TIME_WIDTH, '0');
}
