import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startGateway } from '../helpers/gateway.js';
import { eventually, REPO } from '../helpers/hooksd.js';
import { reapOnExit } from '../helpers/reaper.js';
import { startReceiver } from '../helpers/receiver.js';

/** `hooksd tail` with `args`, its output kept line by line; stopped with SIGTERM when the test ends. */
function tail(t: Test, args: string[]) {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'hooksd.js'), 'tail', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOOKSD_CONFIG: '' },
  });
  const forget = reapOnExit(child.pid!);
  const lines: string[] = [];
  let errors = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
    forget();
  });
  return {
    lines,
    errors: () => errors,
    exited,
    /** Resolves once it says it follows the attempts. */
    following: () => eventually(() => (errors.includes('hooksd tail: following') ? true : undefined), 20_000),
    stop: async () => (child.kill('SIGTERM'), exited),
  };
}

t.test('hooksd tail - follows attempts live: one line each, filters, --json, a clean stop', async (t) => {
  const ok = await startReceiver(t);
  const down = await startReceiver(t, () => ({ status: 503 }));
  const gateway = await startGateway(t, {
    server: { auth: { tokens: [{ name: 'ops', token: 'tail-token-0123456789', scopes: ['read'] }] } },
    eventTypes: [{ name: 'company.created' }, { name: 'company.deleted' }],
    consumers: [
      { id: 'ok', url: ok.url },
      { id: 'down', url: down.url, retrySchedule: ['0s', '1h'] },
    ],
  });
  const url = gateway.daemon.url;
  const everything = tail(t, ['--url', url, '--token', 'tail-token-0123456789']);
  const failures = tail(t, ['--url', url, '--token', 'tail-token-0123456789', '--status', 'failure', '--json']);
  const onlyOk = tail(t, ['--url', url, '--consumer', 'ok', '--json', '--token', 'tail-token-0123456789']);
  const deletions = tail(t, ['--url', url, '--type', 'company.deleted', '--json', '--token', 'tail-token-0123456789']);
  await Promise.all([everything.following(), failures.following(), onlyOk.following(), deletions.following()]);
  for (let i = 0; i < 3; i++) await gateway.publish('company.created', { n: i });
  await gateway.publish('company.deleted', { n: 3 });

  await eventually(() => (everything.lines.length >= 8 ? true : undefined), 30_000, 'eight attempts');
  const okLines = everything.lines.filter((line) => / ok +company\.created +success +200 /.test(line));
  const downLines = everything.lines.filter((line) => / down +company\.created +failure +503 /.test(line));
  t.equal(okLines.length, 3, 'each success on a line: time, consumer, type, outcome, status');
  t.equal(downLines.length, 3, 'each failure too');
  t.match(downLines[0], /\d+ ms +attempt 1\/2, next \d\d:\d\d:\d\d\.\d{3}$/, 'with its duration and next attempt');
  t.match(okLines[0], /^\d\d:\d\d:\d\d\.\d{3} /, 'starting with the time');

  await eventually(() => (failures.lines.length >= 3 && onlyOk.lines.length >= 3 ? true : undefined), 30_000);
  const failed = failures.lines.map((line) => JSON.parse(line));
  t.same(new Set(failed.map((a) => a.consumerId)), new Set(['down']), '--status failure: only failed attempts');
  t.match(failed[0], { outcome: 'failure', statusCode: 503, attempt: 1, of: 2, status: 'attempting' });
  t.ok(
    onlyOk.lines.map((line) => JSON.parse(line)).every((a) => a.consumerId === 'ok'),
    '--consumer ok: only ok',
  );
  await eventually(() => (deletions.lines.length >= 2 ? true : undefined), 30_000, 'the two deletion attempts');
  const deleted = deletions.lines.map((line) => JSON.parse(line));
  t.same(
    deleted.map((a) => `${a.consumerId} ${a.eventType}`).sort(),
    ['down company.deleted', 'ok company.deleted'],
    '--type company.deleted: its attempt at each consumer, none of the six company.created ones',
  );
  t.equal(await everything.stop(), 0, 'SIGTERM stops it, exit 0');
  t.equal(everything.errors(), `hooksd tail: following the attempts at ${url}\n`, 'nothing else on stderr');
});

t.test('hooksd tail - a wrong token is said in one line, exit 1', async (t) => {
  const gateway = await startGateway(t, {
    server: { auth: { tokens: [{ name: 'ops', token: 'tail-token-0123456789', scopes: ['read'] }] } },
  });
  const run = tail(t, ['--url', gateway.daemon.url, '--token', 'wrong-token-0123456789']);
  t.equal(await run.exited, 1, 'exit 1');
  t.match(run.errors(), /^hooksd: HOOKSD_UNAUTHORIZED: http:\/\/127\.0\.0\.1:\d+ answered 401: /);
  t.equal(run.errors().trim().split('\n').length, 1, 'in one line');
});
