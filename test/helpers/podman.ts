// Runs podman through scripts/image/podman.sh (runc, fixed rlimits) for the image check.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO } from './hooksd.js';

export const SCRIPTS = path.join(REPO, 'scripts', 'image');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command to its end (killed after `timeoutMs`), collecting its output. Without systemd
 * podman cannot schedule health checks itself and says so on every run and stop; those lines
 * are left out of stderr (the image check runs the health check itself).
 */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  const started = Date.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  return new Promise((resolve) => {
    const finish = (code: number | null) => {
      clearTimeout(timer);
      const kept = stderr.split('\n').filter((line) => !/unable to get systemd connection/.test(line));
      resolve({ code, stdout, stderr: kept.join('\n'), ms: Date.now() - started });
    };
    child.on('error', (error) => {
      stderr += `${error.message}\n`;
      finish(null);
    });
    child.on('close', finish);
  });
}

export const podman = (args: string[], options?: Parameters<typeof run>[2]): Promise<Run> =>
  run(path.join(SCRIPTS, 'podman.sh'), args, options);

/** The last lines of a run's output, to show when it failed. */
export function tail(result: Run, lines = 30): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-lines).join('\n');
}
