import type { ConsumerStats } from '../types.js';
import { clock, ms } from './format.js';

/** Small SVG charts drawn here (no chart library): attributes and classes only, no inline style. */

const W = 640;
const H = 180;
const LEFT = 44;
const BOTTOM = 22;
const TOP = 8;
const plotW = W - LEFT - 8;
const plotH = H - TOP - BOTTOM;

/** A round number at or above `value`, for the top of an axis. */
function ceiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

function Axes({ top, format, steps }: { top: number; format: (n: number) => string; steps: ConsumerStats['steps'] }) {
  const labels = steps.length > 0 ? [0, Math.floor((steps.length - 1) / 2), steps.length - 1] : [];
  return (
    <g class="axes">
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line x1={LEFT} x2={W - 8} y1={TOP + plotH * (1 - f)} y2={TOP + plotH * (1 - f)} class="grid" />
          <text x={LEFT - 6} y={TOP + plotH * (1 - f) + 4} text-anchor="end">
            {format(top * f)}
          </text>
        </g>
      ))}
      {labels.map((i, n) => (
        <text
          key={i}
          x={LEFT + (plotW * (i + 0.5)) / steps.length}
          y={H - 6}
          text-anchor={n === 0 ? 'start' : n === 2 ? 'end' : 'middle'}
        >
          {clock(steps[i].at)}
        </text>
      ))}
    </g>
  );
}

/** Deliveries per step, stacked: successes below, failures above. */
export function RateChart({ steps, step }: { steps: ConsumerStats['steps']; step: string }) {
  const top = ceiling(Math.max(0, ...steps.map((s) => s.success + s.failure)));
  const bw = plotW / Math.max(steps.length, 1);
  const y = (n: number) => (plotH * n) / top;
  const total = steps.reduce((sum, s) => sum + s.success + s.failure, 0);
  return (
    <figure class="chart">
      <figcaption>
        Deliveries per {step === '1m' ? 'minute' : step}, by outcome
        <span class="legend">
          <span class="key key-success">success</span> <span class="key key-failure">failure</span>
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${total} attempts over ${steps.length} steps`}>
        <Axes top={top} format={(n) => (Number.isInteger(n) ? String(n) : n.toFixed(1))} steps={steps} />
        {steps.map((s, i) => (
          <g key={s.at}>
            <title>{`${clock(s.at)}: ${s.success} delivered, ${s.failure} failed`}</title>
            <rect
              class="bar-success"
              x={LEFT + i * bw + bw * 0.1}
              width={bw * 0.8}
              y={TOP + plotH - y(s.success)}
              height={y(s.success)}
            />
            <rect
              class="bar-failure"
              x={LEFT + i * bw + bw * 0.1}
              width={bw * 0.8}
              y={TOP + plotH - y(s.success + s.failure)}
              height={y(s.failure)}
            />
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** A line through the steps that have a value; a gap where a step has none. */
function linePath(
  steps: ConsumerStats['steps'],
  pick: (s: ConsumerStats['steps'][number]) => number | null,
  top: number,
) {
  const bw = plotW / Math.max(steps.length, 1);
  let path = '';
  let drawing = false;
  steps.forEach((s, i) => {
    const value = pick(s);
    if (value === null) {
      drawing = false;
      return;
    }
    const x = (LEFT + bw * (i + 0.5)).toFixed(1);
    const y = (TOP + plotH - (plotH * value) / top).toFixed(1);
    path += `${drawing ? 'L' : 'M'}${x} ${y} `;
    drawing = true;
  });
  return path.trim();
}

/** Latency per step: the median and the 95th percentile. */
export function LatencyChart({ steps }: { steps: ConsumerStats['steps'] }) {
  const top = ceiling(Math.max(0, ...steps.map((s) => s.p95Ms ?? s.p50Ms ?? 0)));
  const bw = plotW / Math.max(steps.length, 1);
  return (
    <figure class="chart">
      <figcaption>
        Latency
        <span class="legend">
          <span class="key key-p50">p50</span> <span class="key key-p95">p95</span>
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Latency per step, p50 and p95">
        <Axes top={top} format={(n) => ms(n)} steps={steps} />
        <path class="line-p95" d={linePath(steps, (s) => s.p95Ms, top)} />
        <path class="line-p50" d={linePath(steps, (s) => s.p50Ms, top)} />
        {steps.map((s, i) =>
          (['p95Ms', 'p50Ms'] as const).map((key) =>
            s[key] === null ? null : (
              <circle
                key={`${s.at}-${key}`}
                class={key === 'p50Ms' ? 'dot-p50' : 'dot-p95'}
                cx={LEFT + bw * (i + 0.5)}
                cy={TOP + plotH - (plotH * (s[key] as number)) / top}
                r={2.5}
              />
            ),
          ),
        )}
        {steps.map((s, i) =>
          s.p50Ms === null ? null : (
            <rect key={s.at} class="hover" x={LEFT + i * bw} width={bw} y={TOP} height={plotH}>
              <title>{`${clock(s.at)}: p50 ${ms(s.p50Ms)}, p95 ${ms(s.p95Ms)}`}</title>
            </rect>
          ),
        )}
      </svg>
    </figure>
  );
}

/** got's phases, in the order they happen. */
export const PHASES = ['wait', 'dns', 'tcp', 'tls', 'request', 'firstByte', 'download'] as const;
const PHASE_NAMES: Record<string, string> = {
  wait: 'wait',
  dns: 'dns',
  tcp: 'connect',
  tls: 'tls',
  request: 'request',
  firstByte: 'first byte',
  download: 'download',
};

/** One attempt's phases as a bar, each as wide as its share of the whole, with a legend in ms. */
export function TimingBar({ timings, durationMs }: { timings: Record<string, number>; durationMs: number }) {
  const phases = PHASES.filter((name) => typeof timings[name] === 'number' && timings[name] > 0);
  const total = timings.total ?? durationMs;
  const whole = Math.max(
    total,
    phases.reduce((sum, name) => sum + timings[name], 0),
    0.001,
  );
  let x = 0;
  return (
    <div class="timing">
      <svg viewBox="0 0 1000 14" preserveAspectRatio="none" role="img" aria-label={`took ${ms(total)}`}>
        <rect class="phase-none" x={0} y={0} width={1000} height={14} />
        {phases.map((name) => {
          const width = (timings[name] / whole) * 1000;
          const rect = (
            <rect key={name} class={`phase-${name}`} x={x} y={0} width={Math.max(width, 2)} height={14}>
              <title>{`${PHASE_NAMES[name]}: ${ms(timings[name])}`}</title>
            </rect>
          );
          x += width;
          return rect;
        })}
      </svg>
      <ul class="phases">
        {phases.map((name) => (
          <li key={name}>
            <span class={`swatch phase-${name}`} aria-hidden="true" />
            {PHASE_NAMES[name]} {ms(timings[name])}
          </li>
        ))}
        <li>total {ms(total)}</li>
      </ul>
    </div>
  );
}
