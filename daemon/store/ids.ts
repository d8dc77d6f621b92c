import { randomFillSync } from 'node:crypto';

const TIME_WIDTH = 9; // base36 milliseconds, enough until the year 5138
const SEQ_WIDTH = 4;
const RANDOM_BYTES = 5;
const pool = Buffer.alloc(2000);
let poolOffset = pool.length;
let lastTime = 0;
let seq = 0;

/**
 * Ids that sort by creation time (then by creation order within one millisecond), so a key
 * range over them is a time range and listing newest-first is a reverse scan.
 */
export function sortableId(prefix: string, now = Date.now()): string {
  if (now === lastTime) {
    seq += 1;
  } else {
    lastTime = now;
    seq = 0;
  }
  return prefix + timePart(now) + seq.toString(36).padStart(SEQ_WIDTH, '0') + randomHex();
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
