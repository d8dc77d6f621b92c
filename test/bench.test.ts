import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cpuPerThousand, cpuSeconds, memoryMb } from '../bench/process-stats.js';
import { addGcLine, GC_TRACE_FLAG, shebangFlags, startReceiver, type GcTotals } from '../bench/processes.js';
import { eventOfRun, scenarioNamed, type BenchEvent } from '../bench/scenarios.js';
import { latency, median, percentile, ratePerSecond, ratio } from '../bench/stats.js';
import { REPO, tempDir } from './helpers/hooksd.js';
import { reapOnExit, signalGroup } from './helpers/reaper.js';

t.test('bench stats - percentiles, medians and rates', async (t) => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(sorted, 50), 50);
  t.equal(percentile(sorted, 99), 99);
  t.equal(percentile(sorted, 100), 100);
  t.ok(Number.isNaN(percentile([], 50)), 'no samples, no percentile');
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([Number.NaN, 7]), 7, 'missing figures are left out of a median');
  t.same(latency([3, 1, 2]), { count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
  t.equal(ratePerSecond(11, 1000, 2000), 10, '11 arrivals over one second are 10 intervals: 10/s');
  t.equal(ratio(800, 1000), 0.8);
  t.ok(Number.isNaN(ratio(1, Number.NaN)));
});

t.test('bench process stats - CPU time and memory of a real process from /proc', async (t) => {
  // Spin until Node itself counts 300 ms of this process's CPU time (a busy machine may take
  // longer to give it), then /proc must show about as much.
  const before = cpuSeconds(process.pid);
  const start = process.cpuUsage();
  let spin = 0;
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= 300_000) break;
    for (let i = 0; i < 10_000; i++) spin += Math.sqrt(spin + 1);
  }
  const after = cpuSeconds(process.pid);
  t.ok(after - before >= 0.2, `300 ms of spinning shows as CPU time (${(after - before).toFixed(2)} s)`);
  // Resident memory first: the peak read after it can only be as large or larger.
  const resident = memoryMb(process.pid, 'VmRSS');
  t.ok(resident > 0 && memoryMb(process.pid, 'VmHWM') >= resident, 'peak resident memory is at least the current one');
  t.equal(cpuPerThousand(1, 3, 4000), 0.5);
});

t.test(
  'bench GC totals - the promoted and allocated bytes of a real node process, from its --trace-gc-nvp lines',
  async (t) => {
    // Keeps a window of 100,000 small objects alive while allocating more: survivors get promoted.
    const script = 'let a = []; for (let i = 0; i < 3e6; i++) { a.push({ i }); if (a.length > 1e5) a = []; }';
    const child = spawn(process.execPath, [GC_TRACE_FLAG, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('exit', resolve));
    const totals: GcTotals = { promoted: 0, allocated: 0, scavenges: 0, markCompacts: 0 };
    for (const line of output.split('\n')) addGcLine(totals, line);
    addGcLine(totals, '{"level":30,"msg":"a log line is not a GC line"}');
    t.ok(totals.scavenges > 0, `scavenges are counted (${totals.scavenges})`);
    t.ok(totals.promoted > 1_000_000, `survivors are promoted (${totals.promoted} bytes)`);
    t.ok(totals.allocated > 3e6 * 16, `3 million objects were allocated (${totals.allocated} bytes)`);
    t.same(
      shebangFlags(path.join(REPO, 'bin', 'hooksd.js')),
      ['--max-old-space-size=256', '--max-semi-space-size=32'],
      "the bench runs hooksd with its shebang's heap flags",
    );
  },
);

t.test('bench warm-up - warm-up events count as deliveries, but only the measured ones have a latency', async (t) => {
  const scenario = scenarioNamed('latency-1000');
  t.ok(scenario.warmup !== undefined && scenario.warmup.full > 0, 'the fixed-rate scenario warms up');
  t.equal(eventOfRun(scenario, 2, 1).payload.warmup, true, 'events before the warm-up count are marked');
  t.same(eventOfRun(scenario, 2, 2), scenario.event(0), "the measured events are the scenario's own, from the first");
  const receiver = await startReceiver();
  t.teardown(() => receiver.stop());
  receiver.reset();
  const post = (event: BenchEvent) =>
    fetch(receiver.url + '/one', {
      method: 'POST',
      body: JSON.stringify({ payload: { ...event.payload, sentAt: performance.timeOrigin + performance.now() } }),
    });
  for (let i = 0; i < 3; i++) await post(eventOfRun(scenario, 2, i));
  const report = (await receiver.report())['/one'];
  t.equal(report.count, 3, 'all three arrived and are counted');
  t.equal(report.latencies.length, 1, 'only the measured event has a latency');
});

t.test(
  'bench harness - a quick run measures hooksd on both transports, a loop and the backlog, and writes every figure',
  { timeout: 90_000 },
  async (t) => {
    const out = path.join(tempDir(t, 'bench'), 'result.json');
    const args = [
      'dist/bench/run.js',
      '--quick',
      '--scenario',
      'one-consumer,backlog',
      '--systems',
      'hooksd,node,http',
      '--events',
      '300',
      '--backlog',
      '2000',
      '--out',
      out,
    ];
    // In a process group of its own with the nats-server and hooksd it starts: killing the group
    // leaves none of them behind, and the watchdog does that should this test process be killed.
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const forget = reapOnExit(-child.pid!);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    t.teardown(() => {
      signalGroup(-child.pid!, 'SIGKILL');
      forget();
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    t.equal(code, 0, `npm run bench exits 0:\n${output}`);
    t.match(output, /\| one-consumer +\|/, 'the summary table is printed');
    const result = JSON.parse(readFileSync(out, 'utf8'));
    t.equal(result.runs.length, 3, 'one run of hooksd on each transport and one of the http loop');
    for (const run of result.runs) {
      t.equal(run.delivered, 300, `${run.system} delivered every event`);
      t.notOk(run.timedOut);
      t.ok(
        run.deliveriesPerSec > 0 && run.cpuSecondsPer1000 > 0 && run.peakRssMb > 0,
        `${run.system} has a rate, a CPU cost and a peak RSS`,
      );
      t.ok(run.latencyMs.p99 >= run.latencyMs.p50 && run.latencyMs.p50 > 0, `${run.system} has latency percentiles`);
      t.ok(run.promotedKbPerDelivery >= 0 && run.allocatedKbPerDelivery >= 0, `${run.system} has GC figures`);
    }
    for (const system of ['hooksd', 'node']) {
      const hooksdRun = result.runs.find((run: { system: string }) => run.system === system);
      // Each delivery writes at least its attempt; far fewer than 50 operations in all.
      t.ok(
        hooksdRun.storeOpsPerDelivery >= 1 && hooksdRun.storeOpsPerDelivery < 50,
        `${system}: hooksd's store operations per delivery are counted (${hooksdRun.storeOpsPerDelivery})`,
      );
    }
    const httpRun = result.runs.find((run: { system: string }) => run.system === 'http');
    t.equal(httpRun.storeOpsPerDelivery, null, 'a bare loop has no store (NaN, written as null)');
    t.ok(result.summary[0].hooksdVsHttp > 0, 'the headline ratio is computed');
    t.ok(result.summary[0].nodeVsHooksd > 0, 'the node transport over got is computed');
    t.equal(result.backlog.length, 1, 'one backlog step');
    t.equal(result.backlog[0].pending, 2000);
    t.ok(
      result.backlog[0].sweepCpuMsPerDue > 0 && result.backlog[0].rssMb > 0,
      'the backlog step has a sweep cost and RSS',
    );
  },
);
