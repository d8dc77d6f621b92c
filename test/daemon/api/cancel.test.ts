import t from 'tap';
import { eventually, json } from '../../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const post = (body?: unknown) => json('POST', body);
/** Later than any due time: the due index holds 15 digits of milliseconds. */
const END_OF_TIME = 9e14;

async function publish(hooksd: InProcess, payload: unknown): Promise<string> {
  const { status, body } = await hooksd.api('/v1/events', post({ eventType: 'order.placed', payload }));
  if (status !== 202) throw new Error(`publish answered ${status}: ${JSON.stringify(body)}`);
  return body.id;
}

/** The event's message once it has `status`. */
function messageOf(hooksd: InProcess, eventId: string, status: string) {
  return eventually(
    async () => {
      const message = (await hooksd.api(`/v1/events/${eventId}`)).body?.messages?.[0];
      return message?.status === status ? message : undefined;
    },
    30_000,
    `a message ${status}`,
  );
}

t.test(
  'cancel - a message waiting for its retry ends cancelled: reason and time kept, due entry removed, 409 again',
  async (t) => {
    const receiver = await startReceiver(t, () => ({ status: 500 }));
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'order.placed' }],
      consumers: [{ id: 'shop', url: receiver.url, retrySchedule: ['0s', '1h'] }],
    });
    const eventId = await publish(hooksd, { order: 1 });
    const waiting = await messageOf(hooksd, eventId, 'attempting');
    t.match(waiting.nextAttemptAt, ISO_MS, 'due in an hour');
    t.equal((await hooksd.app.store.due.entries('shop', END_OF_TIME, 10)).length, 1, 'the due index holds it');

    const cancelled = await hooksd.api(`/v1/messages/${waiting.id}/cancel`, post({ reason: 'the order was refunded' }));
    t.equal(cancelled.status, 200);
    t.match(cancelled.body, {
      id: waiting.id,
      status: 'cancelled',
      nextAttemptAt: null,
      cancelReason: 'the order was refunded',
      attempts: 1,
      lastStatusCode: 500,
    });
    t.match(cancelled.body.cancelledAt, ISO_MS);
    t.ok(Date.parse(cancelled.body.cancelledAt) >= Date.parse(waiting.updatedAt), 'cancelled after its attempt');
    t.same((await hooksd.api(`/v1/messages/${waiting.id}`)).body, cancelled.body, 'recorded on the message');
    t.same(await hooksd.app.store.due.entries('shop', END_OF_TIME, 10), [], 'its due entry is gone');
    t.same(
      (await hooksd.api('/v1/messages?status=cancelled')).body.data.map((m: { id: string }) => m.id),
      [waiting.id],
      'listed under its new status',
    );
    t.match(
      hooksd.logs().find((line) => line.msg === 'message cancelled through the API: no more attempts'),
      { messageId: waiting.id, consumerId: 'shop', reason: 'the order was refunded' },
    );

    const again = await hooksd.api(`/v1/messages/${waiting.id}/cancel`, post());
    t.same([again.status, again.body.code], [409, 'HOOKSD_MESSAGE_NOT_PENDING']);
    t.match(again.body.message, /is cancelled with no attempt due/);
    const unknown = await hooksd.api('/v1/messages/msg_nope/cancel', post());
    t.same([unknown.status, unknown.body.code], [404, 'HOOKSD_NOT_FOUND']);
    const badReason = await hooksd.api(`/v1/messages/${waiting.id}/cancel`, post({ reason: '' }));
    t.same([badReason.status, badReason.body.code], [400, 'HOOKSD_INVALID_REQUEST']);

    const other = await messageOf(hooksd, await publish(hooksd, { order: 2 }), 'attempting');
    const plain = await hooksd.api(`/v1/messages/${other.id}/cancel`, post());
    t.match(plain.body, { status: 'cancelled', cancelReason: 'cancelled through the API' }, 'the reason by default');
    t.equal(receiver.received.length, 2, 'one attempt each, no more');
  },
);

t.test('cancel - a retry due within seconds, held on a timer in memory, is cancelled and never sent', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 500 }));
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'order.placed' }],
    // Retries due within 5 s wait on a timer in the dispatcher rather than for the sweeper.
    consumers: [{ id: 'shop', url: receiver.url, retrySchedule: ['0s', '5s'] }],
  });
  const waiting = await messageOf(hooksd, await publish(hooksd, { order: 1 }), 'attempting');
  const cancelled = await hooksd.api(`/v1/messages/${waiting.id}/cancel`, post());
  t.same([cancelled.status, cancelled.body.status], [200, 'cancelled'], 'cancelled before the retry was due');
  // Well past the retry's due time: the timer would have sent it by now.
  const due = Date.parse(waiting.nextAttemptAt);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 5_000));
  t.equal(receiver.received.length, 1, 'the first attempt only');
  t.equal((await hooksd.api(`/v1/messages/${waiting.id}`)).body.status, 'cancelled', 'and it stays cancelled');
});

t.test('cancel - a message in flight answers 409 busy, one delivered 409 not pending', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 3_000 }));
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'order.placed' }],
    consumers: [{ id: 'shop', url: receiver.url }],
  });
  const eventId = await publish(hooksd, { order: 1 });
  await receiver.waitFor(1);
  const inFlight = await messageOf(hooksd, eventId, 'sending');
  const busy = await hooksd.api(`/v1/messages/${inFlight.id}/cancel`, post());
  t.same([busy.status, busy.body.code], [409, 'HOOKSD_MESSAGE_BUSY'], 'its answer has not come yet');
  const delivered = await messageOf(hooksd, eventId, 'success');
  const late = await hooksd.api(`/v1/messages/${delivered.id}/cancel`, post());
  t.same([late.status, late.body.code], [409, 'HOOKSD_MESSAGE_NOT_PENDING']);
  t.equal((await hooksd.api(`/v1/messages/${delivered.id}`)).body.status, 'success', 'unchanged');
});
