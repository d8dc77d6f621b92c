import t from 'tap';
import { sortableId } from '../../../daemon/store/ids.js';
import type { MessageRecord } from '../../../daemon/store/records.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';

const MESSAGES = 100_000;
const CONSUMERS = 20;
const TYPES = 8;
const PAGE = 50;
const RUNS = 5;
/** What the console needs is 300 ms; the bound asserted leaves room for a busy 2-core machine. */
const BOUND_MS = 3000;

/**
 * 100,000 messages of 20 consumers over the last day, each event fanned out to every consumer:
 * about 1 in 100 failed (50 or so for any one consumer), some waiting for a retry, the rest
 * delivered; 8 event types.
 */
function generate(now: number): MessageRecord[] {
  const start = now - MESSAGES * 800;
  return Array.from({ length: MESSAGES }, (_, i) => {
    const createdAt = start + i * 800;
    const waiting = i % 53 === 1;
    return {
      id: sortableId('msg_', createdAt),
      eventId: `evt-${Math.floor(i / CONSUMERS)}`,
      consumerId: `c${String(i % CONSUMERS).padStart(2, '0')}`,
      eventType: `order.t${Math.floor(i / CONSUMERS) % TYPES}`,
      status: i % 97 === 0 ? 'failure' : waiting ? 'attempting' : 'success',
      createdAt,
      updatedAt: createdAt,
      attempts: 1,
      nextAttemptAt: waiting ? now + 86_400_000 : null,
    };
  });
}

t.test(
  'messages at scale - on 100,000 stored messages every filter the console uses answers its first page fast, ' +
    'and right',
  async (t) => {
    t.setTimeout(170_000);
    const storage = tempDir(t, 'scale');
    const now = Date.now();
    const all = generate(now);
    const store = new Store(storage);
    await store.start();
    const writing = performance.now();
    for (let i = 0; i < all.length; i += 1000) {
      await store.write(all.slice(i, i + 1000).flatMap((m) => store.newMessageOps(m)));
    }
    t.comment(`wrote ${MESSAGES} messages through the store in ${Math.round(performance.now() - writing)} ms`);
    await store.stop();

    const hooksd = await startInProcess(t, { storage: { path: storage } });
    const x = 'c07';
    const mid = all[MESSAGES / 2].createdAt;
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: { name: string; query: string; expect: (m: MessageRecord) => boolean; exact?: boolean }[] = [
      {
        name: 'consumer and status',
        query: `consumerId=${x}&status=failure`,
        expect: (m) => m.consumerId === x && m.status === 'failure',
      },
      { name: 'consumer', query: `consumerId=${x}`, expect: (m) => m.consumerId === x },
      { name: 'status', query: 'status=failure', expect: (m) => m.status === 'failure' },
      { name: 'event type', query: 'eventType=order.t3', expect: (m) => m.eventType === 'order.t3' },
      {
        name: 'time range',
        query: `since=${iso(mid - 3_600_000)}&until=${iso(mid)}`,
        expect: (m) => m.createdAt >= mid - 3_600_000 && m.createdAt < mid,
      },
      {
        name: 'consumer, status and time range',
        query: `consumerId=${x}&status=failure&until=${iso(mid)}`,
        expect: (m) => m.consumerId === x && m.status === 'failure' && m.createdAt < mid,
      },
      { name: 'event id', query: 'eventId=evt-2500', expect: (m) => m.eventId === 'evt-2500' },
      {
        name: 'consumer and event type',
        query: `consumerId=${x}&eventType=order.t3`,
        expect: (m) => m.consumerId === x && m.eventType === 'order.t3',
      },
      {
        name: 'status and event type (read through the status index, the type checked on each)',
        query: 'status=failure&eventType=order.t3',
        expect: (m) => m.status === 'failure' && m.eventType === 'order.t3',
        exact: false,
      },
    ];
    const figures: string[] = [];
    const timed = async (path: string) => {
      const started = performance.now();
      const res = await fetch(hooksd.url + path);
      const body = await res.json();
      const roundTrip = performance.now() - started;
      const server = Number(/app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);
      return { status: res.status, body, server, roundTrip };
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    for (const { name, query, expect, exact = true } of cases) {
      const wanted = all
        .filter(expect)
        .reverse()
        .slice(0, PAGE)
        .map((m) => m.id);
      const runs = [];
      for (let run = 0; run < RUNS; run++) runs.push(await timed(`/v1/messages?limit=${PAGE}&${query}`));
      const ids = runs[0].body.data.map((m: { id: string }) => m.id);
      t.equal(runs[0].status, 200, `${name}: 200`);
      if (exact) t.same(ids, wanted, `${name}: the newest ${wanted.length} that match`);
      else t.same(ids, wanted.slice(0, ids.length), `${name}: the newest that match, ${ids.length} on this page`);
      const server = runs.map((r) => r.server);
      t.ok(server.every(Number.isFinite), `${name}: Server-Timing on every answer`);
      t.ok(Math.max(...server) < BOUND_MS, `${name}: under ${BOUND_MS} ms`);
      const roundTrip = median(runs.map((r) => r.roundTrip)).toFixed(1);
      figures.push(
        `${name}: ${ids.length} on the first page; server ${median(server).toFixed(1)} ms median, ` +
          `${Math.max(...server).toFixed(1)} ms max of ${RUNS}; round trip ${roundTrip} ms`,
      );
    }
    const one = all[12_345];
    const lookup = await timed(`/v1/messages/${one.id}`);
    t.equal(lookup.body.id, one.id, 'a message by id');
    figures.push(`message by id: server ${lookup.server.toFixed(1)} ms`);
    const event = await timed('/v1/events/evt-2500');
    t.equal(event.status, 404, 'no event record was written, only messages');
    for (const line of figures) t.comment(line);
  },
);
