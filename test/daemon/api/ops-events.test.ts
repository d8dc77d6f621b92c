import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { eventually, json, tempDir } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { ISO_MS } from '../../helpers/openapi-answers.js';
import { startReceiver } from '../../helpers/receiver.js';

const HEADER_SECRET = 'sk_live_9f8e7d6c5b4a3210';
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

t.test(
  'ops events - a failed message, a disable and an enable are listed newest first with ISO times; no secret in ' +
    'their payloads, in the attempt answers or in the log',
  async (t) => {
    const failing = await startReceiver(t, () => ({ status: 503 }));
    const scripts = tempDir(t, 'scripts');
    // A transform that fails quoting what it saw: the consumer's credential header.
    const leak = path.join(scripts, 'leak.js');
    writeFileSync(leak, 'function handler(webhook) { throw new Error("refused " + webhook.headers.authorization); }');
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'order.placed' }],
      consumers: [
        { id: 'down', url: failing.url, eventTypes: ['order.placed'], retrySchedule: ['0s'] },
        {
          id: 'leaky',
          url: failing.url,
          eventTypes: ['order.placed'],
          retrySchedule: ['0s'],
          secret: SIGNING_SECRET,
          headers: { authorization: `Bearer ${HEADER_SECRET}` },
          transform: leak,
        },
      ],
    });
    t.same((await hooksd.api('/v1/ops-events')).body, { data: [] }, 'none yet');

    const published = await hooksd.api('/v1/events', json('POST', { eventType: 'order.placed', payload: { n: 1 } }));
    t.equal(published.status, 202);
    const failures = await eventually(async () => {
      const { data } = (await hooksd.api('/v1/ops-events')).body;
      return data.length === 2 ? data : undefined;
    }, 30_000);
    const byConsumer = Object.fromEntries(failures.map((e: any) => [e.payload.consumerId, e]));
    t.match(byConsumer.down, {
      type: 'message.failure',
      at: ISO_MS,
      payload: { eventId: published.body.id, eventType: 'order.placed', attempts: 1, lastStatusCode: 503 },
    });
    t.match(byConsumer.leaky, { type: 'message.failure', payload: { lastError: /threw: refused \[redacted\]$/ } });

    t.equal((await hooksd.api('/v1/consumers/down/disable', json('POST', {}))).status, 200);
    t.equal((await hooksd.api('/v1/consumers/down/enable', json('POST', {}))).status, 200);
    const { status, body } = await hooksd.api('/v1/ops-events?limit=3');
    t.equal(status, 200);
    t.same(
      body.data.map((e: any) => [e.type, e.payload.consumerId]),
      [
        ['consumer.enabled', 'down'],
        ['consumer.disabled', 'down'],
        [failures[0].type, failures[0].payload.consumerId],
      ],
      'newest first, cut at the limit',
    );
    const times = body.data.map((e: any) => Date.parse(e.at));
    t.ok(times[0] >= times[1] && times[1] >= times[2], 'in time order');
    t.match(body.data[1].payload, { reason: String, failingSince: null });

    const leakyMessage = (await hooksd.api(`/v1/messages?consumerId=leaky`)).body.data[0];
    const attempts = (await hooksd.api(`/v1/messages/${leakyMessage.id}/attempts`)).body;
    t.match(attempts.data[0].error, /threw: refused \[redacted\]$/, "the attempt's error is recorded without it");
    t.equal(leakyMessage.lastError, attempts.data[0].error, "and the message's");
    const everything = JSON.stringify([(await hooksd.api('/v1/ops-events')).body, attempts]) + hooksd.output();
    for (const secret of [HEADER_SECRET, SIGNING_SECRET, SIGNING_SECRET.slice(6)])
      t.notOk(everything.includes(secret), `${secret.slice(0, 8)}… appears nowhere`);

    for (const query of ['limit=0', 'limit=201', 'limit=x', 'since=2026-01-01T00:00:00Z'])
      t.equal((await hooksd.api(`/v1/ops-events?${query}`)).status, 400, `${query} is refused`);
  },
);
