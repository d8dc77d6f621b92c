/**
 * The bare delivery loop the gateway is compared with: pull events from the stream with its
 * own durable consumer, POST each to the consumers it is routed to, ack it once every POST
 * has been answered. No records, no signing, no retries; the same per-consumer concurrency
 * as hooksd. Run in its own process by baseline-got.ts and baseline-http.ts, which supply
 * the POST; settings come as JSON in $BENCH_BASELINE.
 */
import http from 'node:http';
import { AckPolicy, DeliverPolicy, connect, type JsMsg } from 'nats';
import { scenarioNamed, targets, type BenchEvent } from './scenarios.js';

export interface BaselineSettings {
  natsUrl: string;
  stream: string;
  durable: string;
  scenario: string;
  receiverUrl: string;
  concurrency: number;
  maxAckPending: number;
}

/** Sends one POST through `agent` (one keep-alive pool per consumer) and resolves when the answer has been read. */
export type Post = (agent: http.Agent, url: string, body: string) => Promise<void>;

const agents = new Map<string, http.Agent>();

function agentFor(consumerId: string, concurrency: number): http.Agent {
  let agent = agents.get(consumerId);
  if (agent === undefined) {
    agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
    agents.set(consumerId, agent);
  }
  return agent;
}

interface Lane {
  active: number;
  queue: (() => Promise<void>)[];
}

export async function runBaselineLoop(post: Post): Promise<void> {
  const settings = JSON.parse(process.env.BENCH_BASELINE ?? '') as BaselineSettings;
  const scenario = scenarioNamed(settings.scenario);
  const nc = await connect({ servers: settings.natsUrl, name: 'baseline' });
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(settings.stream, {
    durable_name: settings.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: settings.maxAckPending,
  });
  const consumer = await nc.jetstream().consumers.get(settings.stream, settings.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const lanes = new Map<string, Lane>();

  const run = (id: string, lane: Lane) => {
    while (lane.active < settings.concurrency && lane.queue.length > 0) {
      const send = lane.queue.shift() as () => Promise<void>;
      lane.active += 1;
      void send().finally(() => {
        lane.active -= 1;
        run(id, lane);
      });
    }
  };
  const deliver = (msg: JsMsg) => {
    const body = msg.string();
    const envelope = JSON.parse(body) as BenchEvent;
    const to = targets(scenario, envelope);
    let left = to.length;
    if (left === 0) msg.ack();
    for (const target of to) {
      let lane = lanes.get(target.id);
      if (lane === undefined) {
        lane = { active: 0, queue: [] };
        lanes.set(target.id, lane);
      }
      lane.queue.push(() =>
        post(agentFor(target.id, settings.concurrency), settings.receiverUrl + target.path, body)
          .catch(() => undefined)
          .then(() => {
            left -= 1;
            if (left === 0) msg.ack();
          }),
      );
      run(target.id, lane);
    }
  };

  process.once('SIGTERM', () => {
    messages.stop();
    void nc.close().then(() => process.exit(0));
  });
  console.log(JSON.stringify({ msg: 'baseline ready' }));
  for await (const msg of messages) deliver(msg);
}
