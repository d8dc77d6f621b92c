import { randomBytes } from 'node:crypto';

const TIME_WIDTH = 9; // base36 milliseconds, enough until the year 5138
const SEQ_WIDTH = 4;
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
  return prefix + timePart(now) + seq.toString(36).padStart(SEQ_WIDTH, '0') + randomBytes(5).toString('hex');
}

/** The smallest id of `prefix` created at or after `time`: a lower bound for key ranges. */
export function sortableIdFloor(prefix: string, time: number): string {
  return prefix + timePart(time);
}

function timePart(time: number): string {
  return Math.max(0, Math.floor(time)).toString(36).padStart(TIME_WIDTH, '0');
}
