import { spawn, type ChildProcess } from 'node:child_process';

/**
 * What the watchdog runs. It reads `+TARGET` and `-TARGET` lines on stdin (a pid, or a process
 * group as a negative number). When stdin ends, which happens however the test process dies,
 * SIGKILL included, it sends SIGTERM to every target still listed, waits up to GRACE_MS for
 * them to go, and sends SIGKILL to what is left. It ignores the signals a terminal or a test
 * runner sends, so that it outlives the test process it watches.
 */
const WATCHDOG = `
const GRACE_MS = 5000;
const targets = new Set();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM']) process.on(signal, () => undefined);
const alive = (target) => {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};
const send = (target, signal) => {
  try {
    process.kill(target, signal);
  } catch {
    // gone already
  }
};
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) {
    const target = Number(line.slice(1));
    if (!Number.isInteger(target) || target === 0 || target === -1) continue;
    if (line[0] === '+') targets.add(target);
    else targets.delete(target);
  }
});
let reaping = false;
const reap = async () => {
  if (reaping) return;
  reaping = true;
  for (const target of targets) send(target, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while ([...targets].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const target of targets) if (alive(target)) send(target, 'SIGKILL');
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

let watchdog: ChildProcess | undefined;

function theWatchdog(): ChildProcess {
  if (watchdog === undefined) {
    // Its own session, so a Ctrl-C meant for the test run does not stop it before it has reaped.
    watchdog = spawn(process.execPath, ['-e', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.stdin!.on('error', () => undefined);
    // Neither the process nor the pipe keeps the test process alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void }).unref();
  }
  return watchdog;
}

/**
 * Makes sure `target`, a pid or a whole process group (`-pgid`), does not outlive this test
 * process, however it ends (a tap timeout sends SIGALRM and then SIGKILL, which no teardown or
 * 'exit' hook survives): a watchdog process stops it then. Returns the function to call once
 * the target has been stopped, so that a later process given the same id is left alone.
 */
export function reapOnExit(target: number): () => void {
  const stdin = theWatchdog().stdin!;
  stdin.write(`+${target}\n`);
  let forgotten = false;
  return () => {
    if (forgotten) return;
    forgotten = true;
    stdin.write(`-${target}\n`);
  };
}

/** Sends `signal` to every process of the group `group` (a negative number); a group already gone is fine. */
export function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
