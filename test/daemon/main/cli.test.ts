import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, tempDir } from '../../helpers/hooksd.js';

const hooksd = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO, 'bin', 'hooksd.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOOKSD_CONFIG: '' },
  });

t.test('hooksd validate - prints a misspelt key and a bad duration with line and column, and exits 1', async (t) => {
  const file = path.join(tempDir(t), 'bad.yaml');
  writeFileSync(file, ['delivery:', '  timeuot: 15s', '  timeout:', '    - 0s', ''].join('\n'));
  const run = hooksd('validate', '--config', file);
  t.equal(run.status, 1);
  t.match(run.stderr, `${file}:2:3 delivery.timeuot: unknown key "timeuot"`);
  t.match(run.stderr, `${file}:4:5 delivery.timeout: must be a duration like "250ms", "5s", "5m", "2h", "5d"`);
  t.match(run.stderr, /2 problems in/);
});

t.test('hooksd start - refuses a bad config before starting anything, naming the problem', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(
    file,
    ['storage:', `  path: ${dir}/data`, 'consumers:', '  - id: x', '    url: ftp://example.com', ''].join('\n'),
  );
  const run = hooksd('start', '--config', file);
  t.equal(run.status, 1);
  t.match(run.stderr, /HOOKSD_CONFIG_INVALID/);
  t.match(run.stderr, `${file}:5:10 consumers[0].url`);
});

t.test('hooksd validate - accepts the shipped config', async (t) => {
  const run = hooksd('validate', '--config', path.join(REPO, 'hooks.config.yaml'));
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /valid \(1 consumers, 5 event types\)/);
});

t.test('hooksd - an unknown command or option is said in one line, with exit code 2', async (t) => {
  for (const [args, expected] of [
    [['frobnicate'], 'hooksd: unknown command "frobnicate" (commands: start, validate, publish, tail'],
    [['validate', '--frob'], 'hooksd: unknown option --frob for hooksd validate (see hooksd --help)'],
    [['--config'], "hooksd: Option '-c, --config <value>' argument missing"],
  ] as const) {
    const run = hooksd(...args);
    t.equal(run.status, 2, args.join(' '));
    t.equal(run.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line, no stack trace`);
    t.match(run.stderr, expected);
  }
  const bare = hooksd();
  t.equal(bare.status, 2, 'no command: the usage, exit 2');
  t.match(bare.stderr, /usage: hooksd <command>/);
  const help = hooksd('--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /hooksd tail \[--consumer ID\]/);
});

t.test('hooksd --version prints the package version', async (t) => {
  const run = hooksd('--version');
  t.equal(run.status, 0);
  const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  t.equal(run.stdout.trim(), `hooksd ${version}`);
});

t.test(
  'hooksd publish - a missing payload, a missing @file or a payload that is not JSON is said, exit 2',
  async (t) => {
    const noPayload = hooksd('publish', 'company.created');
    t.equal(noPayload.status, 2, 'a payload is required, not taken as {}');
    t.match(noPayload.stderr, 'hooksd: usage: hooksd publish EVENT_TYPE JSON|@file');
    const missing = hooksd('publish', 'company.created', '@/no/such/payload.json');
    t.equal(missing.status, 2);
    t.equal(missing.stderr.trim(), 'hooksd: cannot read the payload file /no/such/payload.json: no such file');
    const file = path.join(tempDir(t), 'broken.json');
    writeFileSync(file, '{"a": ');
    const broken = hooksd('publish', 'company.created', `@${file}`);
    t.equal(broken.status, 2);
    t.match(broken.stderr, `hooksd: the payload in ${file} is not JSON`);
  },
);
