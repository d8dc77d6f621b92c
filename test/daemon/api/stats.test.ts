import path from 'node:path';
import t from 'tap';
import { MAX_RELATIVE_ERROR } from '../../../daemon/dispatch/latency-histogram.js';
import { eventually, json, tempDir } from '../../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../../helpers/in-process.js';
import { ISO_MS } from '../../helpers/openapi-answers.js';
import { startReceiver } from '../../helpers/receiver.js';

const EVENTS = 24;
const MINUTE = 60_000;

/** The nearest-rank percentile of the values themselves. */
function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}

/** Every message of a consumer, and the durations of all their attempts, through the API. */
async function attemptsOf(hooksd: InProcess, consumerId: string) {
  const messages = (await hooksd.api(`/v1/messages?consumerId=${consumerId}&limit=250`)).body.data;
  const attempts = [];
  for (const message of messages) attempts.push(...(await hooksd.api(`/v1/messages/${message.id}/attempts`)).body.data);
  return attempts as { messageId: string; startedAt: string; durationMs: number; outcome: string }[];
}

/** Reads answers until they all have the same window (a minute may begin between two reads). */
async function sameMinute<T extends { windows: { to: string }[] }>(read: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const answers = await read();
    if (answers.windows.every((w) => w.to === answers.windows[0].to) || tries === 3) return answers;
  }
}

t.test(
  'stats - deliveries with known outcomes: counts match exactly, percentiles within the histogram error, last ' +
    'error, pending; the overview agrees; a restart keeps them',
  async (t) => {
    // Answers that take 0 to 90 ms, so the percentiles have something to tell.
    const steadyReceiver = await startReceiver(t, (_request, i) => ({ status: 200, delayMs: (i % 10) * 10 }));
    const brokenReceiver = await startReceiver(t, () => ({ status: 500, body: 'nope' }));
    const storage = path.join(tempDir(t, 'stats'), 'data');
    const config = {
      storage: { path: storage },
      eventTypes: [{ name: 'order.placed' }, { name: 'order.other' }],
      consumers: [
        { id: 'steady', url: steadyReceiver.url, eventTypes: ['order.placed'] },
        { id: 'broken', url: brokenReceiver.url, eventTypes: ['order.placed'], retrySchedule: ['0s', '1h'] },
        { id: 'idle', url: steadyReceiver.url, eventTypes: ['order.other'] },
      ],
    };
    let hooksd = await startInProcess(t, config);
    const started = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const { status } = await hooksd.api('/v1/events', json('POST', { eventType: 'order.placed', payload: { i } }));
      t.equal(status, 202);
    }
    await eventually(async () => {
      const [steady, broken] = await Promise.all(
        ['steady&status=success', 'broken&status=attempting'].map(
          async (filter) => (await hooksd.api(`/v1/messages?consumerId=${filter}&limit=250`)).body.data.length,
        ),
      );
      return steady === EVENTS && broken === EVENTS ? true : undefined;
    }, 60_000);

    const steadyAttempts = await attemptsOf(hooksd, 'steady');
    const brokenAttempts = await attemptsOf(hooksd, 'broken');
    t.equal(steadyAttempts.length, EVENTS, 'one attempt per message');
    const newestFailure = brokenAttempts.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0];

    const { status, body: steady } = await hooksd.api('/v1/consumers/steady/stats?window=15m&step=1m');
    t.equal(status, 200);
    t.match(steady, { consumerId: 'steady', window: '15m', step: '1m', from: ISO_MS, to: ISO_MS, pending: 0 });
    t.equal(steady.steps.length, 15, 'fifteen one-minute steps');
    t.equal(Date.parse(steady.to) - Date.parse(steady.from), 15 * MINUTE);
    t.equal(Date.parse(steady.to) % MINUTE, 0, 'on minute boundaries');
    t.ok(Date.parse(steady.to) > Date.now() && Date.parse(steady.from) <= started, 'the window holds the test');
    t.same(
      steady.steps.map((s: { at: string }) => Date.parse(s.at) - Date.parse(steady.from)),
      Array.from({ length: 15 }, (_, i) => i * MINUTE),
      'each step at its start',
    );
    const perStep = new Map<number, number>();
    for (const a of steadyAttempts) {
      const step = Math.floor((Date.parse(a.startedAt) - Date.parse(steady.from)) / MINUTE);
      perStep.set(step, (perStep.get(step) ?? 0) + 1);
    }
    t.same(
      steady.steps.map((s: { success: number; failure: number }) => [s.success, s.failure]),
      Array.from({ length: 15 }, (_, i) => [perStep.get(i) ?? 0, 0]),
      'each step counts the attempts that started in it',
    );
    t.match(steady.totals, { success: EVENTS, failure: 0, successRatio: 1 });
    const durations = steadyAttempts.map((a) => a.durationMs);
    for (const [p, field] of [
      [0.5, 'p50Ms'],
      [0.95, 'p95Ms'],
    ] as const) {
      const truth = exact(durations, p);
      const read = steady.totals[field];
      t.ok(Math.abs(read - truth) <= truth * MAX_RELATIVE_ERROR + 0.05, `${field}: ${read} ms for ${truth} ms`);
    }
    t.ok(exact(durations, 0.95) >= 80, 'the receiver did make some attempts slow');
    t.equal(steady.lastError, null, 'no failure');

    const broken = (await hooksd.api('/v1/consumers/broken/stats?window=1h&step=5m')).body;
    t.equal(broken.steps.length, 12);
    t.match(broken.totals, { success: 0, failure: EVENTS, successRatio: 0 });
    t.same(broken.lastError, {
      at: newestFailure.startedAt,
      messageId: newestFailure.messageId,
      statusCode: 500,
      errorClass: 'http',
      error: 'HTTP 500',
    });
    t.equal(broken.pending, EVENTS, 'every message waits for its retry in an hour');

    const idle = (await hooksd.api('/v1/consumers/idle/stats')).body;
    t.match(idle, { window: '1h', step: '1m', lastError: null, pending: 0 });
    t.equal(idle.steps.length, 60, 'an hour of minutes by default');
    t.same(idle.totals, { success: 0, failure: 0, successRatio: null, p50Ms: null, p95Ms: null, perMinute: 0 });
    t.same(idle.steps[0], { at: idle.from, success: 0, failure: 0, p50Ms: null, p95Ms: null });

    // The overview and the three consumers read in one minute (read again when a minute began between
    // them: the window would have moved); perMinute counts to the instant of each read, so it may
    // differ in its last decimal.
    const { overview, quarters } = await sameMinute(async () => {
      const [overview, ...quarters] = await Promise.all(
        [
          '/v1/stats?window=15m',
          ...['broken', 'idle', 'steady'].map((id) => `/v1/consumers/${id}/stats?window=15m`),
        ].map(async (route) => (await hooksd.api(route)).body),
      );
      return { overview, quarters, windows: [overview, ...quarters] };
    });
    t.match(overview, { window: '15m', from: quarters[2].from, to: quarters[2].to });
    t.same(
      overview.consumers.map((c: { consumerId: string }) => c.consumerId),
      ['broken', 'idle', 'steady'],
      'every consumer, by id',
    );
    const withoutRate = ({ perMinute: _instant, ...figures }: any) => figures;
    const summaryOf = (consumer: any) => ({
      consumerId: consumer.consumerId,
      ...withoutRate(consumer.totals),
      lastError: consumer.lastError,
      pending: consumer.pending,
    });
    t.same(overview.consumers.map(withoutRate), quarters.map(summaryOf), 'the same figures');
    overview.consumers.forEach((c: { consumerId: string; perMinute: number }, i: number) =>
      t.ok(Math.abs(c.perMinute - quarters[i].totals.perMinute) <= 0.01, `${c.consumerId}: the same rate per minute`),
    );

    const day = (await hooksd.api('/v1/consumers/steady/stats?window=24h&step=1m')).body;
    t.equal(day.steps.length, 1440, 'a day of minutes');
    t.equal(day.totals.success, EVENTS);

    // Stopped and started again on the same store: the charts are as they were.
    await hooksd.app.stop();
    hooksd = await startInProcess(t, config);
    const after = (await hooksd.api('/v1/consumers/steady/stats?window=15m&step=1m')).body;
    // A minute may have begun since the first read, moving the window on by a step: the steps both
    // windows hold must be the same.
    const stepsAt = (window: any) => new Map(window.steps.map((step: { at: string }) => [step.at, step]));
    const before = stepsAt(steady);
    const shared = [...stepsAt(after)].filter(([at]) => before.has(at));
    t.ok(shared.length >= 14, `${shared.length} steps in both windows`);
    t.same(
      shared.map(([, step]) => step),
      shared.map(([at]) => before.get(at)),
      'the steps survive a restart',
    );
    t.same(after.totals.p50Ms, steady.totals.p50Ms);
    t.same(after.totals.p95Ms, steady.totals.p95Ms);
    t.same((await hooksd.api('/v1/consumers/broken/stats?window=1h&step=5m')).body.lastError, broken.lastError);
    t.equal((await hooksd.api('/v1/consumers/broken/stats')).body.pending, EVENTS, 'pending, from the store');
  },
);

t.test('stats - an unknown consumer is 404, a window or step it cannot take is 400', async (t) => {
  const hooksd = await startInProcess(t, { consumers: [{ id: 'shop', url: 'http://127.0.0.1:9/' }] });
  const missing = await hooksd.api('/v1/consumers/nobody/stats');
  t.equal(missing.status, 404);
  t.match(missing.body, { code: 'HOOKSD_NOT_FOUND', message: /nobody/ });
  for (const query of ['window=2h', 'window=', 'step=2m', 'step=30s', 'window=15m&step=1h', 'limit=5']) {
    const { status, body } = await hooksd.api(`/v1/consumers/shop/stats?${query}`);
    t.equal(status, 400, `${query}: 400`);
    t.equal(body.code, 'HOOKSD_INVALID_REQUEST');
  }
  t.match((await hooksd.api('/v1/consumers/shop/stats?window=15m&step=1h')).body.message, /step: 1h does not fit/);
  t.equal((await hooksd.api('/v1/stats?window=7d')).status, 400);
  t.equal((await hooksd.api('/v1/stats?step=1m')).status, 400, 'the overview has no steps');
  t.equal((await hooksd.api('/v1/consumers/shop/stats?window=6h&step=15m')).body.steps.length, 24);
});
