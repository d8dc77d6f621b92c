import { readFileSync } from 'node:fs';

const MB = 1024 * 1024;

export interface MemorySample {
  /** Milliseconds since sampling started. */
  at: number;
  /** RssAnon of /proc/<pid>/status: resident memory not backed by a file (heap, malloc, stacks), bytes. */
  rssAnon: number;
  /** The V8 heap in use, bytes, when it could be read. */
  heapUsed?: number;
}

/** A field of /proc/<pid>/status in bytes (the kernel gives kB). */
export function procStatus(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The V8 heap in use as hooksd's /metrics reports it (prom-client's nodejs_heap_size_used_bytes). */
export async function heapUsedFromMetrics(apiUrl: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${apiUrl}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+(\S+)$/m.exec(text);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface MemoryCurve {
  samples: MemorySample[];
  /** Stops sampling after one last sample. */
  stop(): Promise<MemorySample[]>;
}

/** Samples the memory of process `pid` now and every `everyMs` until stopped. */
export function startMemoryCurve(
  pid: number,
  everyMs: number,
  heapUsed: () => Promise<number | undefined> = async () => undefined,
): MemoryCurve {
  const samples: MemorySample[] = [];
  const start = Date.now();
  let stopped = false;
  let wake = () => {};
  const take = async () => {
    const at = Date.now() - start;
    const rssAnon = procStatus(pid, 'RssAnon');
    samples.push({ at, rssAnon, heapUsed: await heapUsed() });
  };
  const loop = (async () => {
    for (let next = start; !stopped;) {
      await take();
      next += everyMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, next - Date.now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await take();
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      wake();
      await loop;
      return samples;
    },
  };
}

/** The least-squares slope of RssAnon over `samples`, in MB per minute. */
export function slopeMbPerMinute(samples: MemorySample[]): number {
  if (samples.length < 2) throw new Error('a slope needs two samples or more');
  const xs = samples.map((s) => s.at / 60_000);
  const ys = samples.map((s) => s.rssAnon / MB);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < xs.length; i++) {
    covariance += (xs[i] - meanX) * (ys[i] - meanY);
    variance += (xs[i] - meanX) ** 2;
  }
  return covariance / variance;
}

/** The first sample of each whole minute, and the last one: the curve, a line each. */
export function curveLines(samples: MemorySample[]): string[] {
  const picked = samples.filter(
    (s, i) => i === 0 || Math.floor(s.at / 60_000) > Math.floor(samples[i - 1].at / 60_000),
  );
  if (samples.length > 0 && picked[picked.length - 1] !== samples[samples.length - 1])
    picked.push(samples[samples.length - 1]);
  return picked.map(
    (s) =>
      `minute ${(s.at / 60_000).toFixed(1).padStart(5)}: RssAnon ${(s.rssAnon / MB).toFixed(1)} MB, ` +
      `heap used ${s.heapUsed === undefined ? '?' : (s.heapUsed / MB).toFixed(1)} MB`,
  );
}
