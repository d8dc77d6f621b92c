/**
 * The backlog scenario: hooksd holding 10k, 100k and 1M messages that are pending but not
 * yet due, while a small batch falls due and goes out through the sweeper. It shows whether
 * a sweep costs in proportion to what is due (it should) or to what is pending (it must not),
 * and whether memory grows with the backlog.
 *
 * The backlog is made without HTTP: ten "parked" consumers whose first attempt is an hour
 * away, so each event published adds ten messages to the due index. A parked message sits in
 * the index exactly as a retry waiting for its next attempt does.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from './measure.js';
import { resetStream, STREAM } from './measure.js';
import { cpuSeconds, memoryMb } from './process-stats.js';
import { startHooksd, writeHooksdConfig } from './processes.js';
import { publishFullSpeed } from './publisher.js';
import type { ConsumerSpec } from './scenarios.js';

const PARKED = 10;
const DUE_DELAY = '5s';

export interface BacklogStep {
  pending: number;
  /** Messages parked per second while building this step (ingest with ten-way fan-out). */
  parkedPerSec: number;
  /** hooksd's CPU per second with nothing due: the cost of sweeps over the pending backlog. */
  idleCpuMsPerSec: number;
  due: number;
  /** CPU per due message swept and delivered, idle cost subtracted. */
  sweepCpuMsPerDue: number;
  /** Due messages delivered per second, first to last. */
  dueDeliveredPerSec: number;
  rssMb: number;
  peakRssMb: number;
  storeMb: number;
}

async function waitUntilIngested(ctx: BenchContext, what: string): Promise<void> {
  for (;;) {
    const info = await ctx.jsm.consumers.info(STREAM, 'hooksd');
    const left = info.num_pending + info.num_ack_pending;
    ctx.progress(`backlog: ${what}, ${left} events still to ingest`);
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runBacklog(ctx: BenchContext, levels: number[], dueCount: number): Promise<BacklogStep[]> {
  const idleWindowMs = ctx.quick ? 2000 : 5000;
  await resetStream(ctx.jsm);
  ctx.receiver.configure(0, []);
  ctx.receiver.reset();
  const consumers: ConsumerSpec[] = [
    ...Array.from({ length: PARKED }, (_, i) => ({
      id: `park${i}`,
      path: `/park${i}`,
      eventTypes: ['bench.park'],
      retrySchedule: ['1h'],
    })),
    { id: 'late', path: '/late', eventTypes: ['bench.due'], retrySchedule: [DUE_DELAY] },
  ];
  mkdirSync(ctx.dir, { recursive: true });
  const config = await writeHooksdConfig({
    dir: ctx.dir,
    natsUrl: ctx.natsUrl,
    receiverUrl: ctx.receiver.url,
    scenario: { eventTypes: ['bench.park', 'bench.due'], consumers },
  });
  const hooksd = await startHooksd(config, ctx.cpuProfDir);
  const steps: BacklogStep[] = [];
  let pending = 0;
  let dueSent = 0;
  try {
    for (const level of levels) {
      const events = Math.ceil((level - pending) / PARKED);
      const parkStart = Date.now();
      const pad = 'x'.repeat(160);
      const publishing = publishFullSpeed(ctx.js, events, (i) => ({ eventType: 'bench.park', payload: { n: i, pad } }));
      await sleep(500);
      await publishing;
      await waitUntilIngested(ctx, `parking ${level} messages`);
      const parkedPerSec = ((events * PARKED) / (Date.now() - parkStart)) * 1000;
      pending += events * PARKED;
      await sleep(2000);

      const idleStart = cpuSeconds(hooksd.pid);
      await sleep(idleWindowMs);
      const idleCpuMsPerSec = ((cpuSeconds(hooksd.pid) - idleStart) * 1000 * 1000) / idleWindowMs;

      ctx.receiver.reset();
      await publishFullSpeed(ctx.js, dueCount, (i) => ({ eventType: 'bench.due', payload: { n: dueSent + i, pad } }));
      dueSent += dueCount;
      await waitUntilIngested(ctx, `${dueCount} due messages`);
      const cpuBefore = cpuSeconds(hooksd.pid);
      const timeBefore = Date.now();
      while ((await ctx.receiver.count()) < dueCount) {
        ctx.progress(`backlog ${level}: ${await ctx.receiver.count()}/${dueCount} due messages delivered`);
        await sleep(100);
      }
      const cpuMs = (cpuSeconds(hooksd.pid) - cpuBefore) * 1000 - (idleCpuMsPerSec * (Date.now() - timeBefore)) / 1000;
      const late = (await ctx.receiver.report())['/late'];
      steps.push({
        pending,
        parkedPerSec,
        idleCpuMsPerSec,
        due: dueCount,
        sweepCpuMsPerDue: cpuMs / dueCount,
        dueDeliveredPerSec: ((late.count - 1) * 1000) / (late.lastAt - late.firstAt),
        rssMb: memoryMb(hooksd.pid, 'VmRSS'),
        peakRssMb: memoryMb(hooksd.pid, 'VmHWM'),
        storeMb: Number(execFileSync('du', ['-sm', path.join(ctx.dir, 'data')], { encoding: 'utf8' }).split('\t')[0]),
      });
    }
  } finally {
    await hooksd.stop();
  }
  return steps;
}
