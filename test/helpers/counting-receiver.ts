import type { Test } from 'tap';
import type { CountingCommand, CountingReply, CountingSetup, CountingSummary } from './counting-receiver-child.js';
import { forkChild } from './forked-child.js';

export interface CountingReceiver {
  /** Base URL; consumers are told apart by path (the keys of the setup's `secrets`). */
  url: string;
  /** Per path: what arrived so far, and the first expected events that did not. */
  summary(): Promise<Record<string, CountingSummary>>;
}

/** The receiver of counting-receiver-child.ts, in a process of its own, expecting what `setup` says. */
export async function startCountingReceiver(t: Test, setup: CountingSetup): Promise<CountingReceiver> {
  const child = await forkChild<CountingCommand, CountingReply>(
    t,
    new URL('./counting-receiver-child.ts', import.meta.url),
  );
  await child.ask({ type: 'setup', setup }, 'set up');
  return {
    url: child.url,
    summary: async () => (await child.ask({ type: 'summary' }, 'summary')).paths,
  };
}
