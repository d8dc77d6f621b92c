/**
 * Publishes benchmark events to JetStream as `events.<eventType>` in the envelope hooksd
 * reads. Each payload carries `sentAt`, the publisher's clock in ms (sub-millisecond), which
 * the receiver subtracts from its own to get publish-to-delivery latency.
 */
import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from 'nats';
import type { BenchEvent } from './scenarios.js';

/** Publishes awaiting acknowledgement at once, at full speed. */
const WINDOW = 1000;

const clock = () => performance.timeOrigin + performance.now();

function envelope(event: BenchEvent): string {
  return JSON.stringify({
    id: randomUUID(),
    eventType: event.eventType,
    generatedDate: new Date().toISOString(),
    payload: { ...event.payload, sentAt: clock() },
  });
}

function publishOne(js: JetStreamClient, event: BenchEvent): Promise<unknown> {
  return js.publish(`events.${event.eventType}`, envelope(event));
}

/** Publishes `count` events as fast as JetStream acknowledges them. */
export async function publishFullSpeed(
  js: JetStreamClient,
  count: number,
  eventFor: (i: number) => BenchEvent,
  onProgress?: (published: number) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await publishOne(js, eventFor(i));
      if (i % 1000 === 0) onProgress?.(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, worker));
}

/** Publishes `count` events at `rate` per second, spread evenly (checked every millisecond). */
export async function publishAtRate(
  js: JetStreamClient,
  count: number,
  rate: number,
  eventFor: (i: number) => BenchEvent,
  onProgress?: (published: number) => void,
): Promise<void> {
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    for (; sent < due; sent++) pending.push(publishOne(js, eventFor(sent)));
    if (sent % 1000 === 0) onProgress?.(sent);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
}
