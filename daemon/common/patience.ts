const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 30_000;

/**
 * Runs `attempt` until it succeeds, waiting 0.5 s after the first failure and twice as long
 * after each next one, up to 30 s; `waiting` is told each failure and the wait before the next
 * try. `giveUp` turns a failure into the error thrown: at once when `failFast`, when
 * `stopping()` says so during a wait, or when `passing` (default: every failure) says the
 * failure will not pass by waiting.
 */
export async function patiently<T>(
  attempt: () => Promise<T>,
  options: {
    failFast: boolean;
    stopping: () => boolean;
    waiting: (error: Error, retryInMs: number) => void;
    giveUp: (error: Error, stopped: boolean) => Error;
    passing?: (error: Error) => boolean;
  },
): Promise<T> {
  for (let wait = FIRST_RETRY_MS; ; wait = Math.min(2 * wait, LONGEST_RETRY_MS)) {
    try {
      return await attempt();
    } catch (error) {
      if (options.failFast || options.passing?.(error as Error) === false) throw options.giveUp(error as Error, false);
      options.waiting(error as Error, wait);
      for (const until = Date.now() + wait; Date.now() < until;) {
        if (options.stopping()) throw options.giveUp(error as Error, true);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
      }
    }
  }
}
