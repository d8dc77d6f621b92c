import { fork } from 'node:child_process';
import type { Test } from 'tap';
import { reapOnExit } from './reaper.js';

/** What every helper child sends first, once it listens. */
export interface ReadyMessage {
  type: 'ready';
  url: string;
}

export interface ForkedChild<Command, Reply extends { type: string }> {
  /** What the child sent with its ready message. */
  url: string;
  send(command: Command): void;
  /** Sends `command` and resolves with the child's next reply of type `answer`. */
  ask<T extends Reply['type']>(command: Command, answer: T): Promise<Extract<Reply, { type: T }>>;
}

/**
 * Forks the test helper module at `module` (a server in a process of its own, talking over IPC),
 * waits for its ready message, and disconnects it when the test ends, which makes it exit. The
 * watchdog of reaper.ts stops it should this process die first.
 */
export async function forkChild<Command, Reply extends { type: string }>(
  t: Test,
  module: URL,
): Promise<ForkedChild<Command, Reply>> {
  const child = fork(module, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const forget = reapOnExit(child.pid!);
  t.teardown(() => {
    if (child.connected) child.disconnect();
    forget();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: ReadyMessage | Reply) =>
      message.type === 'ready' ? resolve((message as ReadyMessage).url) : reject(new Error('no ready message')),
    );
    child.once('exit', (code) => reject(new Error(`${module.pathname} exited with ${code}`)));
  });
  const send = (command: Command) => child.send(command as object);
  return {
    url,
    send,
    ask: (command, answer) =>
      new Promise((resolve) => {
        const listen = (message: Reply) => {
          if (message.type !== answer) return;
          child.off('message', listen);
          resolve(message as Extract<Reply, { type: typeof answer }>);
        };
        child.on('message', listen);
        send(command);
      }),
  };
}
