import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { eventually, natsClient, REPO } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';
import { startReceiver } from '../helpers/receiver.js';

const operations = readFileSync(path.join(REPO, 'docs', 'operations.md'), 'utf8');
const yamlBlocks = [...operations.matchAll(/```yaml\n([\s\S]*?)```/g)].map(([, text]) => text);
/** Labels Prometheus adds to every series it scrapes: not hooksd's to serve. */
const SCRAPE_LABELS = new Set(['job', 'instance']);

/** Metric names and the labels an expression uses on them (`{label="..."}` and `by (label)`). */
function metricsIn(expr: string): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap(([, labels]) =>
    labels.split(',').map((label) => label.trim()),
  );
  for (const [, name, matchers = ''] of expr.matchAll(/\b((?:hooksd|process|nodejs)_[a-z_]+)(?:\{([^}]*)\})?/g)) {
    const labels = used.get(name) ?? new Set<string>();
    for (const [, label] of matchers.matchAll(/(\w+)\s*=/g)) labels.add(label);
    for (const label of grouped) labels.add(label);
    used.set(name, labels);
  }
  return used;
}

t.test('operations doc - its Prometheus examples are YAML, and its alert rules each have an expression', async (t) => {
  t.ok(yamlBlocks.length >= 2, `${yamlBlocks.length} YAML examples`);
  const parsed = yamlBlocks.map((text) => parse(text));
  const scrape = parsed.find((doc) => doc.scrape_configs);
  t.equal(scrape?.scrape_configs[0].job_name, 'hooksd', 'a scrape job named hooksd, as the rules expect');
  const rules = parsed.find((doc) => doc.groups)?.groups.flatMap((group: { rules: unknown[] }) => group.rules) ?? [];
  t.ok(rules.length >= 5, `${rules.length} alert rules`);
  for (const rule of rules) t.match(rule, { alert: /^\w+$/, expr: /\S/ }, rule.alert);
});

t.test(
  'operations doc - every metric its alert rules use is served by /metrics, with the labels they use',
  async (t) => {
    const down = await startReceiver(t, () => ({ status: 500 }));
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'order.placed' }],
      consumers: [{ id: 'shop', url: down.url, retrySchedule: ['0s', '1h'] }],
    });
    // One failed attempt, so the per-consumer series have samples with their labels.
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.order.placed', JSON.stringify({ id: 'o1', payload: {} }));
    const text = await eventually(async () => {
      const body = await (await fetch(`${hooksd.url}/metrics`)).text();
      return /^hooksd_attempts_total\{[^}]*outcome="failure"/m.test(body) ? body : undefined;
    }, 30_000);

    const rules = parse(yamlBlocks.find((block) => block.includes('groups:'))!).groups.flatMap(
      (group: { rules: { alert: string; expr: string }[] }) => group.rules,
    );
    let checked = 0;
    for (const { alert, expr } of rules) {
      for (const [name, labels] of metricsIn(expr)) {
        checked += 1;
        t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${alert}: /metrics serves ${name}`);
        const samples = text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
        for (const label of labels) {
          if (SCRAPE_LABELS.has(label)) continue;
          t.ok(
            samples.some((line) => new RegExp(`[{,]${label}="`).test(line)),
            `${alert}: ${name} has the label ${label}`,
          );
        }
      }
    }
    t.ok(checked >= 6, `${checked} metrics checked`);
    t.same(
      [...metricsIn('sum by (consumer) (rate(hooksd_attempts_total{outcome="failure"}[10m]))')].map(([n, l]) => [
        n,
        [...l].sort(),
      ]),
      [['hooksd_attempts_total', ['consumer', 'outcome']]],
      'the expression reader finds names and labels',
    );
  },
);
