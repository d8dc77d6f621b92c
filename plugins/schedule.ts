/**
 * The retry schedule: entry n is the delay before attempt n+1, so the first entry is the
 * delay of the first attempt ("0s": immediately). Each delay is spread by ±jitter so that
 * many messages failing together do not come back together.
 */
export function nextDelay(schedule: readonly number[], attemptsMade: number, jitter: number, random = Math.random): number | null {
  if (attemptsMade >= schedule.length) return null;
  const base = schedule[attemptsMade];
  return Math.round(base * (1 + jitter * (2 * random() - 1)));
}
