import t from 'tap';
import { connect } from 'nats';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { instanceTag, ownerTagOf, sortableId } from '../../daemon/store/ids.js';
import { apiSubject, presenceSubject } from '../../daemon/common/subjects.js';
import { eventually, json, tempDir } from '../helpers/hooksd.js';
import { listAll, startInstances, type Instance } from '../helpers/hooksd-group.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';
import { publishAll } from './load.js';

/**
 * Any instance of a group answers for the whole group: lists gather a page from every live
 * instance and merge them under one cursor, lookups and actions by id run on the instance that
 * holds the record, and an instance that does not answer is named instead of failing the list.
 * Three built hooksd processes on one real nats-server (streams with one replica).
 */
const EVENTS = 300;
const STREAM = 'HOOKS_EVENTS';

t.setTimeout(10 * 60_000);

interface Message {
  id: string;
  eventId: string;
  consumerId: string;
  status: string;
}

const tagOf = (id: string) => ownerTagOf(id, 'msg_');

t.test('cluster - one API across the group: lists, lookups and actions through any instance', async (t) => {
  const dir = tempDir(t, 'cluster-group-api');
  const nats = await startNats(t);
  const ok = await startReceiver(t);
  // c1's receiver refuses everything and its retry is an hour away: its messages stay pending.
  const refusing = await startReceiver(t, () => ({ status: 500 }));
  const instances = await startInstances(
    t,
    dir,
    3,
    [nats.url],
    {
      eventTypes: [{ name: 'load.tick' }],
      consumers: [
        { id: 'c0', url: ok.url + '/c0', secret: generateSecret() },
        { id: 'c1', url: refusing.url + '/c1', secret: generateSecret(), retrySchedule: ['0s', '3600s'] },
      ],
    },
    1,
  );
  const [a, b, c] = instances;
  for (const instance of instances)
    await eventually(
      async () => ((await instance.daemon.api('/readyz')).body.instances.live.length === 3 ? true : undefined),
      30_000,
      `${instance.id} sees the group`,
    );

  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  await publishAll(nc.jetstream(), 'g-', EVENTS);
  // A dead letter too: not JSON.
  await nc.jetstream().publish('events.load.tick', 'not json', { msgID: 'g-bad' });
  await eventually(
    async () => (ok.received.length >= EVENTS && refusing.received.length >= EVENTS ? true : undefined),
    120_000,
    'every first request',
  );

  // Each instance's own share, by the tag in the ids: all three took some.
  const all = await eventually(
    async () => {
      const list = await listAll<Message>(a, '/v1/messages?status=attempting');
      return list.length === EVENTS ? await listAll<Message>(a, '/v1/messages') : undefined;
    },
    60_000,
    "c1's messages all attempting",
  );

  await t.test('a walk through any instance meets every message once, newest first', async (t) => {
    const pairs = new Set(all.map((m) => `${m.eventId}/${m.consumerId}`));
    t.equal(all.length, 2 * EVENTS, 'one message per event and consumer');
    t.equal(new Set(all.map((m) => m.id)).size, all.length, 'no repeat');
    t.equal(pairs.size, 2 * EVENTS, 'no pair missing');
    const ids = all.map((m) => m.id);
    t.same(ids, [...ids].sort().reverse(), 'newest first, in one order across instances');
    const owners = new Set(ids.map(tagOf));
    t.same([...owners].sort(), instances.map((i) => instanceTag(i.id)).sort(), 'each instance holds some');
    for (const instance of [b, c]) {
      // Small pages: many merges, each cursor continued by all three.
      const walked = await walk(instance, '/v1/messages', 7);
      t.same(
        walked.map((m) => m.id),
        ids,
        `${instance.id}: the same messages in the same order, 7 a page`,
      );
    }
    const pending = await walk(b, '/v1/messages?consumerId=c1&status=attempting', 11);
    t.equal(pending.length, EVENTS, 'a filtered walk: every pending message of c1');
    t.ok(
      pending.every((m) => m.consumerId === 'c1' && m.status === 'attempting'),
      'and only those',
    );
    const events = await walk(c, '/v1/events', 9);
    t.equal(events.length, EVENTS, 'every event once');
    t.equal(new Set(events.map((e: { id: string }) => e.id)).size, EVENTS);
    const deadLetters = await listAll(b, '/v1/dead-letters');
    t.equal(deadLetters.length, 1, 'the dead letter, from whichever instance took it');
  });

  await t.test('a lookup by id answers through every instance, whoever owns the message', async (t) => {
    for (const owner of instances) {
      const message = all.find((m) => tagOf(m.id) === instanceTag(owner.id))!;
      for (const asked of instances) {
        const res = await fetch(`${asked.daemon.url}/v1/messages/${message.id}`);
        t.equal(res.status, 200, `${owner.id}'s message through ${asked.id}`);
        t.equal((await res.json()).id, message.id);
        t.equal(res.headers.get('hooksd-answered-by'), owner.id, 'answered from the store of its owner');
        const attempts = await asked.daemon.api(`/v1/messages/${message.id}/attempts`);
        t.equal(attempts.status, 200);
        t.ok(attempts.body.data.length >= 1, 'with its attempts');
        const event = await asked.daemon.api(`/v1/events/${message.eventId}`);
        t.equal(event.status, 200, 'its event too');
        t.equal(event.body.messages.length, 2, 'with both messages');
      }
    }
    const missing = sortableId('msg_', Date.now(), instanceTag(b.id));
    const { status, body } = await a.daemon.api(`/v1/messages/${missing}`);
    t.equal(status, 404, 'an id of a live instance that no instance holds: not found');
    t.equal(body.code, 'HOOKSD_NOT_FOUND');
    t.equal((await a.daemon.api('/v1/messages/msg_nope')).status, 404);
    t.equal((await b.daemon.api('/v1/events/no-such-event')).status, 404);
  });

  await t.test('cancel, resend and redrive run on the owner', async (t) => {
    const ofC = (consumerId: string) =>
      all.find((m) => m.consumerId === consumerId && tagOf(m.id) === instanceTag(c.id))!;
    const pending = ofC('c1');
    const cancelled = await a.daemon.api(`/v1/messages/${pending.id}/cancel`, json('POST', { reason: 'from a' }));
    t.equal(cancelled.status, 200, `a cancels ${c.id}'s message`);
    t.equal(cancelled.body.status, 'cancelled');
    const seen = await b.daemon.api(`/v1/messages/${pending.id}`);
    t.match(seen.body, { status: 'cancelled', cancelReason: 'from a' }, 'b sees it cancelled');
    const again = await b.daemon.api(`/v1/messages/${pending.id}/cancel`, json('POST', {}));
    t.equal(again.status, 409, "the owner's refusal comes back as it is");
    t.equal(again.body.code, 'HOOKSD_MESSAGE_NOT_PENDING');

    const delivered = ofC('c0');
    const before = ok.received.length;
    const resent = await b.daemon.api(`/v1/messages/${delivered.id}/resend`, json('POST', {}));
    t.equal(resent.status, 202, `b resends ${c.id}'s message`);
    const requests = await ok.waitFor(before + 1, 60_000);
    t.ok(
      requests.slice(before).some((r) => r.headers['webhook-id'] === delivered.id),
      'the receiver gets it again, with its webhook-id',
    );
    const attempts = await eventually(
      async () => {
        const page = (await a.daemon.api(`/v1/messages/${delivered.id}/attempts`)).body;
        return page.data.length === 2 ? page : undefined;
      },
      30_000,
      'the manual attempt recorded',
    );
    t.equal(attempts.data[0].trigger, 'manual');

    const [deadLetter] = await listAll(a, '/v1/dead-letters');
    for (const asked of instances) {
      const redrive = await asked.daemon.api(`/v1/dead-letters/${deadLetter.id}/redrive`, json('POST', {}));
      t.equal(redrive.status, 422, `${asked.id}: the owner says it is still refused`);
      t.equal(redrive.body.code, 'HOOKSD_EVENT_REFUSED');
    }
  });

  await t.test('an instance that does not answer is named, and its records answer 503', async (t) => {
    // A member that announces itself as hooksd does but never answers a question.
    const ghost = { id: 'ghost-1', tag: instanceTag('ghost-1') };
    const announce = (kind: string) =>
      nc.publish(presenceSubject(STREAM), JSON.stringify({ ...ghost, startedAt: Date.now(), process: 'ghost', kind }));
    const silent = nc.subscribe(apiSubject(STREAM, ghost.id));
    t.teardown(() => silent.unsubscribe());
    announce('hello');
    const timer = setInterval(() => announce('here'), 1000);
    t.teardown(() => clearInterval(timer));
    await eventually(
      async () => ((await a.daemon.api('/readyz')).body.instances.live.length === 4 ? true : undefined),
      30_000,
      'a sees the ghost',
    );
    const res = await fetch(`${a.daemon.url}/v1/messages?limit=250`);
    const page = await res.json();
    t.equal(res.status, 200, 'the list still answers');
    t.same(page.missingInstances, [ghost.id], 'naming the instance that did not answer');
    t.equal(res.headers.get('hooksd-missing-instances'), ghost.id, 'in a header too');
    t.same(
      page.data.map((m: Message) => m.id),
      all.slice(0, 250).map((m) => m.id),
      "with every answering instance's records",
    );
    const ghostly = sortableId('msg_', Date.now(), ghost.tag);
    const stuck = await a.daemon.api(`/v1/messages/${ghostly}`);
    t.equal(stuck.status, 503, "a message of the ghost's: 503");
    t.equal(stuck.body.code, 'HOOKSD_OWNER_UNAVAILABLE');
    t.match(stuck.body.message, /ghost-1 did not answer in time/);

    clearInterval(timer);
    announce('leaving');
    await eventually(
      async () => ((await a.daemon.api('/readyz')).body.instances.live.length === 3 ? true : undefined),
      30_000,
      'the ghost left',
    );
    const gone = await a.daemon.api(`/v1/messages/${ghostly}`);
    t.equal(gone.status, 503, 'its owner gone: still 503');
    t.match(gone.body.message, new RegExp(`owns it \\(id tag "${ghost.tag}"\\) is not live`));
    const whole = await a.daemon.api('/v1/messages?limit=250');
    t.equal(whole.body.missingInstances, undefined, 'every live instance answered again');
  });
});

/** Every record of a list through one instance, `limit` a page, checking each page's size. */
async function walk(instance: Instance, route: string, limit: number): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const page = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const query = `${route}${route.includes('?') ? '&' : '?'}${page}`;
    const { status, body } = await instance.daemon.api(query);
    if (status !== 200) throw new Error(`${query}: ${status} ${JSON.stringify(body)}`);
    if (body.data.length > limit || body.missingInstances !== undefined) throw new Error(`${query}: a bad page`);
    all.push(...body.data);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return all;
}
