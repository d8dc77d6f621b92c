import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { eventually, natsClient, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

const EVENTS = 100_000;
const WINDOW = 2000;

/** Peak resident memory of a process, in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

t.test(
  'backlog - 100,000 messages pending for a dead consumer: memory stays bounded and the others keep delivering',
  { timeout: 600_000 },
  async (t) => {
    const nats = await startNats(t);
    const alive = await startReceiver(t);
    const dead = await startReceiver(t, () => ({ status: 200, delayMs: 120_000 }));
    const file = await writeConfig(tempDir(t), {
      nats: { servers: [nats.url] },
      eventTypes: [{ name: 'read.completed' }],
      consumers: [
        { id: 'alive', url: alive.url },
        { id: 'dead', url: dead.url, timeout: '10s', concurrency: 4 },
      ],
    });
    const daemon = await startDaemon(t, file);
    const nc = await natsClient(t, nats.url);
    const js = nc.jetstream();
    const started = Date.now();
    for (let sent = 0; sent < EVENTS; sent += WINDOW) {
      await Promise.all(
        Array.from({ length: WINDOW }, (_, i) =>
          js.publish(
            'events.read.completed',
            JSON.stringify({ id: randomUUID(), payload: { n: sent + i, pad: 'x'.repeat(200) } }),
          ),
        ),
      );
    }
    await alive.waitFor(EVENTS, 400_000);
    const seconds = (Date.now() - started) / 1000;
    t.equal(
      new Set(alive.received.map((r) => r.headers['webhook-id'])).size,
      EVENTS,
      `the live consumer got all ${EVENTS} events (${Math.round(EVENTS / seconds)}/s end to end)`,
    );
    const pending = await eventually(async () => {
      const { body } = await daemon.api('/v1/messages?consumerId=dead&status=sending&limit=250');
      return body.data.length === 250 ? body : undefined;
    });
    t.type(pending.nextCursor, 'string', 'the dead consumer has a backlog of pending messages');
    t.ok(
      dead.maxOpen <= 4,
      `the dead consumer never had more than its concurrency in flight (${dead.maxOpen} at most)`,
    );
    const rss = peakRssMb(daemon.pid);
    t.ok(rss < 300, `hooksd peak RSS ${Math.round(rss)} MB`);
  },
);
