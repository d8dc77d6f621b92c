import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/hooksd.js';

/**
 * The parts of hooksd and which parts each may import (type-only imports included). `main`
 * wires everything and nothing imports it; ingest, sweeper and api hand work to dispatch;
 * every part writes through store, and store imports only common; config and plugins import
 * no daemon part except common.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  store: ['common'],
  config: ['common'],
  plugins: ['common', 'config'],
  dispatch: ['common', 'store', 'config', 'plugins'],
  ingest: ['common', 'store', 'dispatch', 'config', 'plugins'],
  sweeper: ['common', 'store', 'dispatch', 'config', 'plugins'],
  api: ['common', 'store', 'dispatch', 'sweeper', 'config', 'plugins'],
  main: ['common', 'store', 'dispatch', 'ingest', 'sweeper', 'api', 'config', 'plugins'],
};
const DAEMON_PARTS = ['main', 'ingest', 'dispatch', 'sweeper', 'store', 'api', 'common'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The part a file belongs to: its folder under daemon/, or config and plugins at the top. */
function partOf(file: string): string | undefined {
  const [top, folder] = path.relative(REPO, file).split(path.sep);
  if (top === 'config' || top === 'plugins') return top;
  if (top === 'daemon') return DAEMON_PARTS.includes(folder) ? folder : undefined;
  return undefined;
}

/** The modules a source text imports or re-exports, statically or dynamically, types included. */
function specifiersIn(text: string): string[] {
  return [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1]);
}

/** The files of the project a file imports. */
function importsOf(file: string): string[] {
  return specifiersIn(readFileSync(file, 'utf8'))
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'));
}

const files = ['daemon', 'config', 'plugins'].flatMap((dir) => sourceFiles(path.join(REPO, dir)));

t.test('parts - every source file under daemon/ is in one of the part folders', async (t) => {
  const outside = files.filter((file) => partOf(file) === undefined).map((file) => path.relative(REPO, file));
  t.same(outside, [], `parts: ${DAEMON_PARTS.join(', ')}`);
  t.ok(files.length > 40, `${files.length} source files checked`);
});

t.test('parts - imports flow one way: no part imports one it may not, type-only imports included', async (t) => {
  const wrong: string[] = [];
  const outside: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const from = partOf(file) as string;
    for (const target of importsOf(file)) {
      const to = partOf(target);
      if (to === undefined) outside.push(`${path.relative(REPO, file)} → ${path.relative(REPO, target)}`);
      if (to === undefined || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      if (!MAY_IMPORT[from].includes(to)) wrong.push(`${path.relative(REPO, file)} → ${path.relative(REPO, target)}`);
    }
  }
  t.same(outside, [], 'imports of files outside the parts');
  t.same(wrong, [], 'imports that run where they should not');
  t.ok(edges.get('main')?.has('api'), 'the check sees imports (main imports api)');
  t.notOk(
    [...edges.values()].some((targets) => targets.has('main')),
    'nothing imports main',
  );

  // No circle between parts: a depth-first walk never meets a part it is still inside.
  const circles = new Set<string>();
  const walk = (part: string, trail: string[]) => {
    if (trail.includes(part)) {
      circles.add([...trail.slice(trail.indexOf(part)), part].join(' → '));
      return;
    }
    for (const next of edges.get(part) ?? []) walk(next, [...trail, part]);
  };
  for (const part of Object.keys(MAY_IMPORT)) walk(part, []);
  t.same([...circles], [], 'no circle between parts');
});

t.test('parts - the import reader finds every kind of import it checks', async (t) => {
  const text = [
    "import type { A } from '../store/a.js';",
    "import {\n  B,\n  type C,\n} from '../ingest/b.js';",
    "export { D } from '../main/d.js';",
    "import '../common/side-effect.js';",
    "const e = await import('../sweeper/e.js');",
  ].join('\n');
  t.same(specifiersIn(text).sort(), [
    '../common/side-effect.js',
    '../ingest/b.js',
    '../main/d.js',
    '../store/a.js',
    '../sweeper/e.js',
  ]);
});

t.test("parts - the README's layout table says what each part may import, as this check has it", async (t) => {
  const rows = readFileSync(path.join(REPO, 'README.md'), 'utf8')
    .split('\n')
    .map((line) => /^\| `(?:daemon\/)?(\w+)\/` \|.*\| ([^|]+) \|$/.exec(line))
    .filter((match) => match !== null && match[1] in MAY_IMPORT);
  const said = Object.fromEntries(
    rows.map((match) => {
      const [, part, column] = match!;
      if (column.startsWith('every part')) return [part, Object.keys(MAY_IMPORT).filter((p) => p !== part)];
      if (column.startsWith('nothing')) return [part, []];
      return [part, column.split(',').map((name) => name.trim())];
    }),
  );
  t.same(Object.keys(said).sort(), Object.keys(MAY_IMPORT).sort(), 'a row for every part');
  for (const [part, allowed] of Object.entries(MAY_IMPORT)) {
    t.same([...(said[part] ?? [])].sort(), [...allowed].sort(), `README: what ${part} may import`);
  }
});

t.test(
  'store - the store is walled: LevelDB, the keyspace and its sublevels are private to daemon/store',
  async (t) => {
    const storeDir = path.join(REPO, 'daemon', 'store') + path.sep;
    const outside = files.filter((file) => !file.startsWith(storeDir));
    const keyspace = path.join(storeDir, 'keyspace.ts');
    const wrong: string[] = [];
    for (const file of outside) {
      const text = readFileSync(file, 'utf8');
      const where = path.relative(REPO, file);
      if (importsOf(file).includes(keyspace)) wrong.push(`${where} imports the keyspace`);
      if (specifiersIn(text).some((s) => /^(level|classic-level|abstract-level)$/.test(s)))
        wrong.push(`${where} opens LevelDB`);
      if (/\.sublevel\s*\(|\bSublevel\b/.test(text)) wrong.push(`${where} reaches for a sublevel`);
    }
    t.same(wrong, [], "other parts call the store's typed methods");
    t.ok(
      files.some((file) => file.startsWith(storeDir) && importsOf(file).includes(keyspace)),
      'the check sees imports of the keyspace (inside the store)',
    );
    t.notOk(/\bSublevel\s*=\s*any\b/.test(readFileSync(keyspace, 'utf8')), 'sublevels are typed, not any');
  },
);

t.test('errors - every error hooksd raises is a HooksdError: no bare Error thrown, no other error class', async (t) => {
  const found: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const bare = /\bthrow new (Error|TypeError|RangeError)\(/.test(line);
        const otherClass =
          /\bclass \w+ extends (Error|TypeError|RangeError)\b/.test(line) && !/class HooksdError\b/.test(line);
        if (bare || otherClass) found.push(`${path.relative(REPO, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  t.same(found, [], 'errors outside HooksdError');
});

t.test('console - the console talks to the daemon only over HTTP: it imports its own files and preact', async (t) => {
  const consoleDir = path.join(REPO, 'console', 'src');
  const consoleFiles = readdirSync(consoleDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => path.join(consoleDir, file));
  t.ok(consoleFiles.length > 10, `${consoleFiles.length} console files checked`);
  const wrong: string[] = [];
  for (const file of consoleFiles) {
    for (const specifier of specifiersIn(readFileSync(file, 'utf8'))) {
      const inside = specifier.startsWith('.') && path.resolve(path.dirname(file), specifier).startsWith(consoleDir);
      if (!inside && !/^preact(\/|$)/.test(specifier)) wrong.push(`${path.relative(REPO, file)} → ${specifier}`);
    }
  }
  t.same(wrong, [], 'imports from outside console/src (daemon code, other packages)');
  const intoConsole = files.filter((file) =>
    specifiersIn(readFileSync(file, 'utf8')).some((s) => /console\/src/.test(s)),
  );
  t.same(intoConsole, [], 'no daemon file imports the console');
});
