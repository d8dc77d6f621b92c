/** Times in the browser's zone (the exact ISO time on hover), durations, counts and ratios. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function Time({ iso, short = false }: { iso: string | null | undefined; short?: boolean }) {
  if (!iso) return <span class="muted">—</span>;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {short ? timeOnly.format(date) : dateTime.format(date)}
    </time>
  );
}

export const clock = (iso: string): string => timeOnly.format(new Date(iso));

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 100) return `${Math.round(value)} ms`;
  return `${value === 0 ? 0 : value.toFixed(value < 10 ? 1 : 0)} ms`;
}

export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return '—';
  return `${(ratio * 100).toFixed(ratio >= 0.999 || ratio === 0 ? 0 : 1)}%`;
}

/** A rate per minute: two decimals below 10, so that one attempt in an hour is not 0. */
export const rate = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n.toFixed(n < 10 ? 2 : 1);

export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n.toLocaleString();

/** A delay as people write it: 500ms, 5s, 5m, 2h, 1d 6h. */
export function duration(value: number): string {
  if (value === 0) return '0s';
  if (value < 1000) return `${value}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(value / 1000) * 1000;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** A value for `<input type="datetime-local">` in the browser's zone, from an ISO time. */
export function localInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The ISO time of an `<input type="datetime-local">` value (read in the browser's zone); undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Text for any JSON value, indented; strings as they are. */
export const jsonText = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? String(value));
