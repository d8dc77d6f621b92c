// scripts/test.js, the runner behind `npm test` and .ci/run: its last line is the count CI reads,
// and before it each failure is named with its path, so the end of a long log says what failed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const REPO = path.resolve(import.meta.dirname, '..');

t.test('test runner - names each failure with its path, then prints the counts last', async (t) => {
  const run = spawnSync(process.execPath, ['scripts/test.js', 'test/fixtures/runner/fails.test.ts'], {
    cwd: REPO,
    // Without tap's own variables, which would make the inner tap report as a child of this one.
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TAP'))),
    encoding: 'utf8',
    timeout: 120_000,
  });
  t.equal(run.status, 1, 'exits 1 when a test failed');
  const lines = run.stdout.trimEnd().split('\n');
  t.equal(lines.at(-1), '2 passed, 2 failed, 1 skipped', 'the last line is the counts');
  t.same(
    lines.filter((line) => line.startsWith('failed: ')),
    [
      'failed: test/fixtures/runner/fails.test.ts > outer > inner > one is two',
      'failed: test/fixtures/runner/fails.test.ts > top > plainly false',
    ],
    'each failing assertion once, by file, subtests and name; not the subtests that hold it',
  );
  t.equal(
    lines.indexOf(lines.find((line) => line.startsWith('failed: '))!),
    lines.length - 3,
    'just before the counts',
  );
});
