import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, REPO, tempDir } from '../helpers/hooksd.js';
import { reapOnExit } from '../helpers/reaper.js';

const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const [setupLine, testLine] = /```sh\n([^\n]*)\n([^\n]*)\n```/.exec(readme)!.slice(1);
const command = (line: string) => line.replace(/\s+#.*$/, '').trim();
const TEST_TIMEOUT_MS = 420_000;

// The second test may take minutes (npm ci in a fresh copy), more than the 180 s per file that
// package.json gives tap: the root setTimeout gives this file its own limit (tap 21 tells the runner).
t.setTimeout(TEST_TIMEOUT_MS + 60_000);

t.test('README - opens with the install-and-start command and the test command that CI runs', async (t) => {
  t.equal(command(testLine), 'npm test');
  t.match(readFileSync(path.join(REPO, '.ci', 'run'), 'utf8'), /^npm test /m, '.ci/run calls the same test command');
  t.match(command(setupLine), /npm start/);
});

t.test(
  'README - the first command, run in a fresh copy, starts a gateway that delivers a published event',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const copy = tempDir(t, 'readme');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    for (const file of files) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      try {
        cpSync(path.join(REPO, file), path.join(copy, file));
      } catch {
        // A file deleted in the work tree but not yet in git is not part of the copy.
      }
    }
    const receiver = spawn(process.execPath, ['examples/receiver.js'], {
      cwd: copy,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forgetReceiver = reapOnExit(receiver.pid!);
    let received = '';
    receiver.stdout.on('data', (chunk) => (received += chunk));
    t.teardown(() => {
      receiver.kill();
      forgetReceiver();
    });

    const gateway = spawn('sh', ['-c', command(setupLine)], {
      cwd: copy,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Should this test process be killed, the command's process group (npm, hooksd, nats-server) goes too.
    const forgetGateway = reapOnExit(-gateway.pid!);
    let output = '';
    gateway.stdout!.on('data', (chunk) => (output += chunk));
    gateway.stderr!.on('data', (chunk) => (output += chunk));
    // 'close' waits for every process holding the output pipes, hooksd itself included.
    const exited = new Promise((resolve) => gateway.once('close', resolve));
    t.teardown(async () => {
      if (gateway.exitCode === null) {
        process.kill(-gateway.pid!, 'SIGTERM');
        await exited;
      }
      forgetGateway();
    });

    await eventually(
      async () => {
        if (gateway.exitCode !== null) throw new Error(`the command exited (${gateway.exitCode}):\n${output}`);
        const res = await fetch('http://127.0.0.1:8080/readyz').catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      360_000,
      `/readyz after "${command(setupLine)}"`,
    );
    const published = execFileSync(
      process.execPath,
      ['bin/hooksd.js', 'publish', 'connection.created', '@examples/connection.created.json'],
      { cwd: copy, encoding: 'utf8' },
    );
    const { id } = JSON.parse(published);

    const event = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:8080/v1/events/${id}`);
      return res.status === 200 ? res.json() : undefined;
    });
    t.equal(event.eventType, 'connection.created', 'the event is recorded');
    const message = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:8080/v1/messages?consumerId=demo`);
      const { data } = await res.json();
      return data[0]?.status === 'success' ? data[0] : undefined;
    });
    t.equal(message.eventId, id, 'and delivered to the demo consumer');
    t.match(received, `${message.id} connection.created ${id}`, 'the example receiver verified its signature');
    const page = await fetch('http://127.0.0.1:8080/ui');
    t.equal(page.status, 200, 'the console is served at /ui (npm start built it)');
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
    t.equal((await fetch(`http://127.0.0.1:8080${script}`)).status, 200, 'with its script');

    process.kill(-gateway.pid!, 'SIGTERM');
    await exited;
    t.match(output, /hooksd stopped/, 'SIGTERM stops it cleanly, embedded NATS included');
  },
);
