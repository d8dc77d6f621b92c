import { fork } from 'node:child_process';
import type { Test } from 'tap';
import type { PathSummary, ReceiverChildCommand, ReceiverChildReply } from './receiver-child.js';
import { reapOnExit } from './reaper.js';

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
  const child = fork(new URL('./receiver-child.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const forget = reapOnExit(child.pid!);
  t.teardown(() => {
    child.disconnect();
    forget();
  });
  const ask = <T extends ReceiverChildReply['type']>(command: ReceiverChildCommand, answer: T) =>
    new Promise<Extract<ReceiverChildReply, { type: T }>>((resolve) => {
      const listen = (message: ReceiverChildReply) => {
        if (message.type !== answer) return;
        child.off('message', listen);
        resolve(message as Extract<ReceiverChildReply, { type: T }>);
      };
      child.on('message', listen);
      child.send(command);
    });
  const ready = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: ReceiverChildReply) =>
      message.type === 'ready' ? resolve(message.url) : reject(),
    );
    child.once('exit', (code) => reject(new Error(`the receiver process exited with ${code}`)));
  });
  child.send({ type: 'secrets', secrets } satisfies ReceiverChildCommand);
  const summary = async (expect?: { prefix: string; count: number }) =>
    (await ask({ type: 'summary', expect }, 'summary')).paths;
  return {
    url: ready,
    summary,
    times: async () => (await ask({ type: 'times' }, 'times')).times,
    count: async () => Object.values(await summary()).reduce((sum, path) => sum + path.requests, 0),
  };
}
