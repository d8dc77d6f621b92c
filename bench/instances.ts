/**
 * `npm run build && node dist/bench/instances.js [--events N] [--rounds N]`: the throughput of
 * 1, 2 and 3 hooksd instances sharing one durable consumer (docs/scaling.md), and the CPU each
 * delivery costs. Each run gets a fresh nats-server (JetStream, file storage) and fresh stores;
 * the events (3 consumers each) are published at full speed while the instances run.
 * Deliveries/s is counted at the receiver from its first to its last arrival; CPU is the
 * hooksd processes' together (and nats-server's), from /proc. Results go to
 * bench/results/instances-<time>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { stringify } from 'yaml';
import { cpuPerThousand, cpuSeconds } from './process-stats.js';
import { freePort, REPO, startHooksd, startNatsServer, startReceiver, type Child } from './processes.js';
import { publishFullSpeed } from './publisher.js';
import { fmt, median } from './stats.js';

const { values: options } = parseArgs({
  options: { events: { type: 'string' }, rounds: { type: 'string' }, instances: { type: 'string' } },
});
const EVENTS = Number(options.events ?? 20_000);
const ROUNDS = Number(options.rounds ?? 1);
const COUNTS = (options.instances ?? '1,2,3').split(',').map(Number);
const CONSUMERS = 3;

interface Run {
  instances: number;
  deliveries: number;
  perSecond: number;
  hooksdCpuPer1000: number;
  natsCpuPer1000: number;
  shares: number[];
}

async function runOnce(instances: number): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-instances-'));
  const started: Child[] = [];
  try {
    const nats = await startNatsServer(path.join(dir, 'nats'));
    started.push(nats);
    const receiver = await startReceiver();
    started.push(receiver);
    const hooksd: (Child & { url: string })[] = [];
    for (let i = 1; i <= instances; i++) {
      const home = path.join(dir, `hooksd-${i}`);
      mkdirSync(home);
      const file = path.join(home, 'hooks.config.yaml');
      const config = {
        instance: { id: `hooksd-${i}` },
        server: { listen: `127.0.0.1:${await freePort()}` },
        nats: { servers: [nats.url] },
        storage: { path: path.join(home, 'data') },
        delivery: { network: { allowCidrs: ['127.0.0.0/8'] } },
        log: { level: 'info' },
        eventTypes: [{ name: 'bench.tick' }],
        consumers: Array.from({ length: CONSUMERS }, (_, c) => ({ id: `c${c}`, url: `${receiver.url}/c${c}` })),
      };
      writeFileSync(file, stringify(config));
      const child = await startHooksd(file);
      hooksd.push(child);
      started.push(child);
    }
    const nc = await connect({ servers: nats.url });
    const total = EVENTS * CONSUMERS;
    const cpuBefore = hooksd.map((child) => cpuSeconds(child.pid));
    const natsBefore = cpuSeconds(nats.pid);
    await publishFullSpeed(nc.jetstream(), EVENTS, (i) => ({ eventType: 'bench.tick', payload: { i } }));
    while ((await receiver.count()) < total) await new Promise((resolve) => setTimeout(resolve, 250));
    const cpuAfter = hooksd.map((child) => cpuSeconds(child.pid));
    const natsAfter = cpuSeconds(nats.pid);
    await nc.close();
    const report = Object.values(await receiver.report());
    const first = Math.min(...report.map((p) => p.firstAt));
    const last = Math.max(...report.map((p) => p.lastAt));
    const used = cpuAfter.reduce((sum, after, i) => sum + after - cpuBefore[i], 0);
    const shares = await Promise.all(
      hooksd.map(async (child) => {
        const text = await (await fetch(`${child.url}/metrics`)).text();
        const line = text.split('\n').filter((l) => l.startsWith('hooksd_attempts_total{') && l.includes('success'));
        return line.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0) / total;
      }),
    );
    return {
      instances,
      deliveries: total,
      perSecond: total / ((last - first) / 1000),
      hooksdCpuPer1000: cpuPerThousand(0, used, total),
      natsCpuPer1000: cpuPerThousand(natsBefore, natsAfter, total),
      shares,
    };
  } finally {
    for (const child of started.reverse()) await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const count of COUNTS) {
    const run = await runOnce(count);
    runs.push(run);
    process.stderr.write(
      `${count} instance(s): ${fmt(run.perSecond)} deliveries/s, hooksd CPU ${run.hooksdCpuPer1000.toFixed(2)} s ` +
        `per 1,000 (nats-server ${run.natsCpuPer1000.toFixed(2)}), shares ` +
        `${run.shares.map((s) => `${(100 * s).toFixed(0)} %`).join(' / ')}\n`,
    );
  }
}
console.log(
  '| instances | deliveries | deliveries/s | hooksd CPU s per 1,000 (all instances) | nats-server CPU s per 1,000 |',
);
console.log('|--:|--:|--:|--:|--:|');
for (const count of COUNTS) {
  const of = runs.filter((run) => run.instances === count);
  console.log(
    `| ${count} | ${fmt(EVENTS * CONSUMERS)} | ${fmt(median(of.map((r) => r.perSecond)))} | ` +
      `${median(of.map((r) => r.hooksdCpuPer1000)).toFixed(2)} | ` +
      `${median(of.map((r) => r.natsCpuPer1000)).toFixed(2)} |`,
  );
}
const results = path.join(REPO, 'bench', 'results');
mkdirSync(results, { recursive: true });
const out = path.join(results, `instances-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ events: EVENTS, consumers: CONSUMERS, cpus: os.cpus().length, runs }, null, 2));
process.stderr.write(`written to ${path.relative(process.cwd(), out)}\n`);
