import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times: 100 on every Linux that Node runs on. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** A memory line of /proc/<pid>/status (VmHWM: peak resident, VmRSS: resident now) in MB. */
export function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(field + ':'));
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** CPU time between two readings, per 1,000 deliveries. */
export function cpuPerThousand(cpuBefore: number, cpuAfter: number, deliveries: number): number {
  return deliveries > 0 ? ((cpuAfter - cpuBefore) * 1000) / deliveries : Number.NaN;
}
