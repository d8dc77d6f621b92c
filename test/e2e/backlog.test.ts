import t from 'tap';
import { readFileSync } from 'node:fs';
import { startGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

const EVENTS = 100_000;
const WINDOW = 2000;
const TEST_TIMEOUT_MS = 600_000;

// 100,000 events take about 80 s on an idle 2-core machine, and more than the 180 s per file
// that package.json gives tap on a busy one. A subtest's own timeout does not lift that limit;
// the root test's setTimeout does: tap 21 sends it to the runner, which then waits that long.
t.setTimeout(TEST_TIMEOUT_MS + 60_000);

/** Peak resident memory of a process, in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

t.test(
  'backlog - 100,000 messages pending for a dead consumer: memory stays bounded and the others keep delivering',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const alive = await startReceiver(t);
    const dead = await startReceiver(t, () => ({ status: 200, delayMs: 120_000 }));
    const { daemon, publish } = await startGateway(t, {
      eventTypes: [{ name: 'read.completed' }],
      consumers: [
        { id: 'alive', url: alive.url },
        { id: 'dead', url: dead.url, timeout: '10s', concurrency: 4 },
      ],
    });
    const started = Date.now();
    for (let sent = 0; sent < EVENTS; sent += WINDOW) {
      await Promise.all(
        Array.from({ length: WINDOW }, (_, i) => publish('read.completed', { n: sent + i, pad: 'x'.repeat(200) })),
      );
    }
    // Delivery is at least once: a request may come twice, so count webhook-ids, not requests.
    await alive.waitForDistinct(EVENTS, 420_000);
    const seconds = (Date.now() - started) / 1000;
    t.equal(
      alive.webhookIds.size,
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
