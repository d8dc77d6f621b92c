import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

t.test('hooksd - unknown commands print the usage and exit 2', async (t) => {
  const run = hooksd('frobnicate');
  t.equal(run.status, 2);
  t.match(run.stderr, /usage: hooksd <command>/);
});
