import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO, tempDir } from '../../helpers/hooksd.js';

// The built CLI, as an operator runs it (npm run build first).
const hooksd = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO, 'bin', 'hooksd.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOOKSD_CONFIG: '' },
  });
const fixture = (name: string) => path.join(REPO, 'test', 'fixtures', 'legacy-rules', name);
const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const noStack = /\n\s+at /;

t.test('hooksd migrate-rules - an export of every rule type: YAML that hooksd validate accepts', async (t) => {
  const out = path.join(tempDir(t), 'consumers.yaml');
  const run = hooksd('migrate-rules', fixture('every-type.json'), '--out', out);
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, '', 'the YAML goes to --out, not stdout');
  const consumers = parse(readFileSync(out, 'utf8')).consumers as Record<string, any>[];
  const rules = JSON.parse(readFileSync(fixture('every-type.json'), 'utf8')) as Record<string, any>[];
  const urls = new Set(rules.map((rule) => rule.notifiers.webhook).filter(Boolean));
  t.same(new Set(consumers.map((consumer) => consumer.url)), urls, 'one consumer per URL of the export');

  const validate = hooksd('validate', '--config', out);
  t.equal(validate.status, 0, validate.stderr);
  t.match(validate.stdout, `valid (${urls.size} consumers, 0 event types)`);

  // One warning per rule with email notifiers, naming the rule and its addresses, pointing at the ops events.
  const warnings = lines(run.stderr).filter((line) => line.includes('warning:'));
  const emailed = rules.filter((rule) => (rule.notifiers.emails ?? []).length > 0);
  t.equal(warnings.length, emailed.length, 'a warning per rule with email notifiers');
  for (const rule of emailed) {
    const warning = warnings.find((line) => line.includes(rule.id)) ?? '';
    for (const email of rule.notifiers.emails) t.match(warning, email);
    t.match(warning, 'hooksd.ops.');
  }
  t.match(run.stderr, `${rules.length} rules, ${urls.size} consumers written to ${out}`);
});

t.test('hooksd migrate-rules - reads YAML and Codat GET /rules pages; writes to stdout', async (t) => {
  const run = hooksd('migrate-rules', fixture('paged-export.yaml'));
  t.equal(run.status, 0, run.stderr);
  const { consumers } = parse(run.stdout);
  t.equal(consumers.length, 1, 'two rules, one URL');
  t.same(consumers[0].eventTypes, ['*']);
  t.same(consumers[0].filter.$or.length, 2, "the write families, and company A's initial reads");
});

t.test('hooksd migrate-rules - rules it cannot migrate: each reason, exit 1, nothing written', async (t) => {
  const out = path.join(tempDir(t), 'consumers.yaml');
  const run = hooksd('migrate-rules', fixture('with-unmapped.json'), '--out', out);
  t.equal(run.status, 1);
  t.notOk(existsSync(out), 'no output file');
  t.match(run.stderr, /rule no-replacement "CompanyStatusChanged" not migrated: Codat's migration guide names no/);
  t.match(run.stderr, /rule rate-limit-for-one-company "Rate Limit Reached" not migrated: is limited to company/);
  t.match(run.stderr, /2 rules not migrated; nothing written \(--allow-unmapped writes the rest\)/);
  t.notMatch(run.stderr, noStack);

  const allowed = hooksd('migrate-rules', fixture('with-unmapped.json'), '--out', out, '--allow-unmapped');
  t.equal(allowed.status, 0, allowed.stderr);
  t.match(allowed.stderr, /rule no-replacement "CompanyStatusChanged" not migrated/, 'still reported');
  const yaml = readFileSync(out, 'utf8');
  t.match(yaml, /# Not migrated:\n# {3}rule no-replacement "CompanyStatusChanged": /);
  t.same(
    parse(yaml).consumers.map((consumer: Record<string, unknown>) => consumer.url),
    ['https://sync.example.org/hooks/reads'],
  );
  t.equal(hooksd('validate', '--config', out).status, 0);
});

t.test('hooksd migrate-rules - usage errors: one line, exit 2', async (t) => {
  const dir = tempDir(t);
  const cases: [string, string[], RegExp][] = [
    ['no file', [], /no rules FILE/],
    ['a file that is not there', [path.join(dir, 'missing.json')], /cannot read .*missing\.json: no such file \(/],
    ['an unknown option', [fixture('every-type.json'), '--bogus'], /Unknown option '--bogus'/],
    ['--out without a file', [fixture('every-type.json'), '--out'], /--out/],
    ['two files', [fixture('every-type.json'), fixture('paged-export.yaml')], /one rules FILE only/],
    ['not a list of rules', [path.join(REPO, 'package.json')], /is not a list of rules/],
    ['not JSON or YAML', [path.join(REPO, 'README.md')], /README\.md is not JSON or YAML: .* at line \d+/],
  ];
  for (const [what, args, message] of cases) {
    const run = hooksd('migrate-rules', ...args);
    t.equal(run.status, 2, `${what}: exit 2`);
    t.equal(lines(run.stderr).length, 1, `${what}: one line`);
    t.match(run.stderr, message, what);
    t.match(run.stderr, /^hooksd migrate-rules: .*\(usage: hooksd migrate-rules FILE/, `${what}: with the usage`);
    t.equal(run.stdout, '', `${what}: no output`);
  }
  const help = hooksd('migrate-rules', '--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /--allow-unmapped/);
  t.match(hooksd('--help').stdout, /migrate-rules FILE \[--out FILE\]/, 'hooksd --help lists it');
});
