import type { JetStreamClient } from 'nats';

/** Publishes until JetStream takes it (a server may be down for a moment): the same msgID makes a retry a no-op. */
export async function publishSurely(js: JetStreamClient, id: string): Promise<void> {
  const body = JSON.stringify({ id, eventType: 'load.tick', payload: { id } });
  for (;;) {
    try {
      await js.publish('events.load.tick', body, { msgID: id, timeout: 5000 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Publishes `prefix`0…count-1, `window` awaiting their ack at once, calling `at(i)` before event i. */
export async function publishAll(
  js: JetStreamClient,
  prefix: string,
  count: number,
  window = 500,
  at: (i: number) => Promise<void> | void = () => undefined,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    await at(i);
    const sent = publishSurely(js, `${prefix}${i}`).finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
