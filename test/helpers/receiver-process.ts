import type { Test } from 'tap';
import { forkChild } from './forked-child.js';
import type { PathSummary, ReceiverChildCommand, ReceiverChildReply } from './receiver-child.js';

export interface ReceiverProcess {
  /** Base URL; consumers are told apart by path. */
  url: string;
  /** Per path: counts, and the first of the expected event ids (`prefix` 0…count-1) that never arrived. */
  summary(expect?: { prefix: string; count: number }): Promise<Record<string, PathSummary & { missing: string[] }>>;
  /** When each request arrived (ms since the epoch), in order. */
  times(): Promise<number[]>;
  /** Requests so far, all paths together. */
  count(): Promise<number>;
}

/** The receiver of receiver-child.ts in its own process, checking signatures with `secrets` (path → secret). */
export async function startReceiverProcess(t: Test, secrets: Record<string, string>): Promise<ReceiverProcess> {
  const child = await forkChild<ReceiverChildCommand, ReceiverChildReply>(
    t,
    new URL('./receiver-child.ts', import.meta.url),
  );
  child.send({ type: 'secrets', secrets });
  const summary = async (expect?: { prefix: string; count: number }) =>
    (await child.ask({ type: 'summary', expect }, 'summary')).paths;
  return {
    url: child.url,
    summary,
    times: async () => (await child.ask({ type: 'times' }, 'times')).times,
    count: async () => Object.values(await summary()).reduce((sum, path) => sum + path.requests, 0),
  };
}
