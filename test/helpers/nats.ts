import { createServer } from 'node:net';
import type { Test } from 'tap';
import { EmbeddedNats } from '../../daemon/ingest/embedded-nats.js';
import { HooksdError } from '../../daemon/common/errors.js';
import { reapOnExit } from './reaper.js';

export interface TestNats {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now, chosen by the OS on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected listen address ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Another test file may take the free port before nats-server binds it; that many tries. */
const PORT_ATTEMPTS = 3;

/** A real JetStream-enabled nats-server for one test, stopped when the test ends. */
export async function startNats(t: Test): Promise<TestNats> {
  let nats: EmbeddedNats | undefined;
  let forget = (): void => undefined;
  const stop = async (): Promise<void> => {
    await nats?.stop();
    forget();
  };
  // Registered before t.testdir() so that tap stops the server before it deletes the store.
  t.teardown(stop);
  const storeDir = t.testdir();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    nats = new EmbeddedNats({ storeDir, port });
    try {
      const url = await nats.start();
      // EmbeddedNats stops it when this process exits, but not when it is killed (as tap does on a timeout).
      forget = reapOnExit(nats.pid!);
      return { url, port, stop };
    } catch (err) {
      const portTaken = err instanceof HooksdError && err.message.includes('address already in use');
      if (!portTaken || attempt === PORT_ATTEMPTS) throw err;
    }
  }
}
