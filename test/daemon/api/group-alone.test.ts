import t from 'tap';
import { connect } from 'nats';
import { seal } from '../../../daemon/api/group-seal.js';
import { apiSubject } from '../../../daemon/common/subjects.js';
import { eventually, json } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

/**
 * A lone hooksd answers its API from its own store, without asking anyone over NATS; and it
 * answers the questions other instances of a group would ask it, on its own subject, as its
 * API would answer them, with the sort key of each record of a page.
 */
t.test('group api - alone: no question on NATS; the questions of others answered on its subject', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    instance: { id: 'alone-1' },
    eventTypes: [{ name: 'order.placed' }],
    consumers: [{ id: 'shop', url: receiver.url }],
  });
  const nc = await connect({ servers: hooksd.nats!.url });
  t.teardown(() => nc.close());
  const questions: string[] = [];
  const watch = nc.subscribe('hooksd.api.>', { callback: (_, msg) => questions.push(msg.subject) });
  await nc.flush();

  for (let i = 0; i < 3; i++)
    t.equal((await hooksd.api('/v1/events', json('POST', { eventType: 'order.placed', payload: { i } }))).status, 202);
  await receiver.waitFor(3, 30_000);
  // Recorded as delivered (a moment after the receiver had them), so that no message changes
  // between the answers compared below.
  await eventually(
    async () => ((await hooksd.api('/v1/messages?status=success')).body.data.length === 3 ? true : undefined),
    30_000,
    'the three deliveries recorded',
  );
  const page = await eventually(
    async () => {
      const { body } = await hooksd.api('/v1/messages?limit=2');
      return body.data.length === 2 ? body : undefined;
    },
    30_000,
    'messages listed',
  );
  t.same(Object.keys(page).sort(), ['data', 'nextCursor'], 'a page as a single hooksd answers it');
  const rest = (await hooksd.api(`/v1/messages?limit=2&cursor=${page.nextCursor}`)).body;
  t.equal(rest.data.length, 1, 'the cursor goes on');
  t.equal(rest.nextCursor, null);
  const message = page.data[0];
  t.equal((await hooksd.api(`/v1/messages/${message.id}`)).status, 200);
  t.equal((await hooksd.api(`/v1/messages/${message.id}/attempts`)).status, 200);
  t.equal((await hooksd.api(`/v1/events/${message.eventId}`)).status, 200);
  t.equal((await hooksd.api('/v1/dead-letters')).status, 200);
  await nc.flush();
  watch.unsubscribe();
  t.same(questions, [], 'alone, it asked nobody over NATS');

  // What another instance of its group would ask it.
  const ask = async (call: Record<string, unknown>) => {
    // No API token configured: a question is sealed without a MAC.
    const reply = await nc.request(apiSubject('HOOKS_EVENTS', 'alone-1'), seal(call, undefined), { timeout: 30_000 });
    return JSON.parse(new TextDecoder().decode(reply.data));
  };
  const listed = await ask({ route: 'get /v1/messages', params: {}, query: { limit: 2 } });
  t.same(
    listed.ok.data.map((m: { id: string }) => m.id),
    page.data.map((m: { id: string }) => m.id),
    'a page of its own store',
  );
  t.same(
    listed.ok.keys,
    listed.ok.data.map((m: { id: string }) => m.id),
    'with the key of each: the message id',
  );
  t.equal(listed.ok.nextCursor, page.nextCursor);
  const found = await ask({ route: 'get /v1/messages/:id', params: { id: message.id }, query: {} });
  t.same(found.ok, message, 'a message by id');
  const missing = await ask({ route: 'get /v1/messages/:id', params: { id: 'msg_nope' }, query: {} });
  t.match(missing.error, { code: 'HOOKSD_NOT_FOUND', message: 'no message with id "msg_nope"' }, 'a 404 as its code');
  const badCursor = await ask({ route: 'get /v1/messages', params: {}, query: { limit: 2, cursor: 'x' } });
  t.equal(badCursor.error.code, 'HOOKSD_INVALID_CURSOR');
  const unknown = await ask({ route: 'get /v1/consumers', params: {}, query: {} });
  t.equal(unknown.error.code, 'HOOKSD_ROUTE_NOT_FOUND', 'only the routes shared across the group');
  const garbage = await nc.request(apiSubject('HOOKS_EVENTS', 'alone-1'), 'not json', { timeout: 30_000 });
  t.match(
    JSON.parse(new TextDecoder().decode(garbage.data)),
    { error: { code: 'HOOKSD_INVALID_REQUEST' } },
    'a question that cannot be read',
  );
});
