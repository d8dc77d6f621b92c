#!/usr/bin/env node
// Runs the tap suite, streams tap's output, and ends with one line CI can read:
// "N passed, N failed" (", N skipped" when tests were skipped or todo). Before it, each failure is
// named again on a line of its own ("failed: file > subtest > assertion"), so that the end of a long
// log says what failed.
//
//   node scripts/test.js                      every test/**/*.test.ts but test/faults, test/cluster and test/image
//   node scripts/test.js test/config          the *.test.ts files under a folder
//   node scripts/test.js test/a.test.ts -g x  files, globs and tap options pass through
//
// A bare word (not a path, glob or *.ts/*.js file) is taken as the value of the option before it.
//
// Folders are expanded here rather than by tap, because tap runs every .ts file in a folder
// it is given, and test/helpers and test/fixtures hold modules that are not tests.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tapBin = join(repoRoot, 'node_modules', '.bin', 'tap');
const TEST_FILE = /\.test\.ts$/;
const NOT_TEST_DIRS = new Set(['node_modules', 'fixtures', 'fixture', 'helpers', 'tap-snapshots']);
// tap's final summary, e.g. "# { total: 14, pass: 12, fail: 2 }". Subtests indent theirs.
const SUMMARY = /^# \{ ((?:\w+: \d+(?:, )?)+) \}\s*$/;

function testFilesUnder(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_TEST_DIRS.has(entry.name)) found.push(...testFilesUnder(path));
    } else if (entry.isFile() && TEST_FILE.test(entry.name)) {
      found.push(path);
    }
  }
  return found.sort();
}

function isDirectory(path) {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Which arguments name tests: existing paths, and anything that looks like a path or glob.
 * Anything else not starting with "-" is taken as the value of the option before it
 * (`-g pattern`), so it is passed to tap where it stood.
 */
function namesTests(arg) {
  return !arg.startsWith('-') && (existsSync(arg) || /[/*?{[]|\.[cm]?[jt]sx?$/.test(arg));
}

/** Arguments for tap in the order given, with folders replaced by the test files inside. */
function tapArguments(cliArgs) {
  const relativeToCwd = (file) => relative(process.cwd(), file);
  const args = [];
  for (const arg of cliArgs) {
    if (namesTests(arg) && isDirectory(arg)) args.push(...testFilesUnder(arg).map(relativeToCwd));
    else args.push(arg);
  }
  const requested = cliArgs.filter(namesTests);
  if (requested.length === 0) {
    // test/faults is the long fault suite (kills, soak): `npm run test:faults` runs it; test/cluster
    // runs three nats-servers and three hooksd under load: `npm run test:cluster`; test/image
    // builds and runs the Docker image as root with podman: `npm run test:image`.
    const apart = ['faults', 'cluster', 'image'].map((dir) => join(repoRoot, 'test', dir) + sep);
    const files = testFilesUnder(join(repoRoot, 'test')).filter((file) => !apart.some((dir) => file.startsWith(dir)));
    args.push(...files.map(relativeToCwd));
  }
  // tap runs files in name order, so test/zz-last runs after the others: it checks the logs the
  // daemons of this run left in .tap/suite-record, which starts empty on every run that includes
  // it (the whole suite, and `npm run test:faults` and `test:cluster`, which end with it).
  const lastChecks = join(repoRoot, 'test', 'zz-last') + sep;
  if (args.some((arg) => namesTests(arg) && resolve(arg).startsWith(lastChecks))) {
    rmSync(join(repoRoot, '.tap', 'suite-record'), { recursive: true, force: true });
  }
  return { args, requested, hasTests: args.some(namesTests) };
}

function parseSummary(line) {
  const counts = {};
  for (const [, key, value] of line.matchAll(/(\w+): (\d+)/g)) counts[key] = Number(value);
  return counts;
}

/**
 * Follows tap's nesting ("# Subtest: NAME" opens a level 4 spaces deeper; "ok/not ok N - NAME"
 * at the same depth closes it) and keeps the path of each failure. A subtest's own "not ok" is
 * kept only when nothing inside it was (a file that timed out, say).
 */
function failureTracker() {
  const stack = [];
  const failures = [];
  // Levels above `depth`; a level tap skipped (never seen here) is left out rather than fail the runner.
  const above = (depth) => stack.slice(0, depth).filter(Boolean);
  const record = (depth, name) => {
    failures.push([...above(depth).map((level) => level.name), name].join(' > '));
    for (const level of above(depth)) level.failedInside = true;
  };
  return {
    failures,
    line(text) {
      const subtest = /^( *)# Subtest: (.*)$/.exec(text);
      if (subtest) {
        const depth = subtest[1].length / 4;
        stack.length = depth;
        stack.push({ name: subtest[2], failedInside: false });
        return;
      }
      const result = /^( *)(not )?ok \d+ - (.*?)(?: # (?:time|SKIP|TODO).*)?$/.exec(text);
      if (!result) return;
      const depth = result[1].length / 4;
      const name = result[3];
      const closes = stack[depth]?.name === name;
      if (result[2] && !(closes && stack[depth].failedInside)) record(depth, name);
      if (closes) stack.length = depth;
    },
  };
}

const failed = failureTracker();

function finish(message, counts, exitCode) {
  if (message) console.log(message);
  for (const path of failed.failures) console.log(`failed: ${path}`);
  const skipped = (counts.skip ?? 0) + (counts.todo ?? 0);
  console.log(`${counts.pass ?? 0} passed, ${counts.fail ?? 0} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exit(exitCode);
}

const { args, requested, hasTests } = tapArguments(process.argv.slice(2));

if (!existsSync(tapBin)) {
  finish(`test runner: ${relative(process.cwd(), tapBin)} is missing; run npm ci first`, { pass: 0, fail: 1 }, 1);
}
if (!hasTests) {
  const where = requested.length > 0 ? requested.join(' ') : 'test/';
  finish(`test runner: no *.test.ts files found in ${where}`, { pass: 0, fail: 1 }, 1);
}

const tap = spawn(tapBin, ['--reporter=tap', ...args], {
  stdio: ['inherit', 'pipe', 'inherit'],
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => tap.kill(signal));
}

let summaryLine = null;
let partialLine = '';
let endsWithNewline = true;
tap.stdout.setEncoding('utf8');
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  endsWithNewline = chunk.endsWith('\n');
  const lines = (partialLine + chunk).split('\n');
  partialLine = lines.pop();
  for (const line of lines) {
    if (SUMMARY.test(line)) summaryLine = line;
    failed.line(line);
  }
});

tap.on('error', (err) => {
  finish(`test runner: could not start tap: ${err.message}`, { pass: 0, fail: 1 }, 1);
});

tap.on('close', (code, signal) => {
  if (SUMMARY.test(partialLine)) summaryLine = partialLine;
  failed.line(partialLine);
  if (!endsWithNewline) process.stdout.write('\n');
  const tapCode = code ?? 1;
  if (summaryLine === null) {
    const why = signal ? `tap was stopped by ${signal}` : `tap exited with code ${tapCode}`;
    finish(
      `test runner: no summary line ("# { total: … }") in tap's output; ${why}`,
      { pass: 0, fail: 1 },
      tapCode || 1,
    );
  }
  const counts = parseSummary(summaryLine);
  // A reported failure fails the run even if tap's exit code said otherwise.
  finish(null, counts, tapCode || ((counts.fail ?? 0) > 0 ? 1 : 0));
});
