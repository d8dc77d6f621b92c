import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/hooksd.js';

/**
 * The repository stands on its own: no code, test, script, comment or doc reads, links or cites
 * a folder beside the checkout (the `shared` folder that sat next to the first CI checkout held
 * the spec and the Standard Webhooks vectors; both live in the repository now). A clone in any
 * folder has everything its tests and its readers need.
 */

/** Built, installed or written by a run: not part of the repository. */
const NOT_SOURCES = new Set(['node_modules', 'dist', '.git', '.tap', 'data', 'tmp']);
const NOT_SOURCE_PATHS = [path.join('bench', 'results')];
/** Larger files are data (LevelDB fixtures), not text anyone reads or runs. */
const LARGEST = 1024 * 1024;

function textFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const relative = path.relative(REPO, full);
    if (NOT_SOURCES.has(entry.name) || NOT_SOURCE_PATHS.includes(relative)) return [];
    if (entry.isDirectory()) return textFiles(full);
    if (!entry.isFile() || statSync(full).size > LARGEST) return [];
    return [full];
  });
}

// Spelled in pieces, though this file, which must name what it looks for, is not searched.
const THIS_FILE = path.join('test', 'self-contained.test.ts');
const SIBLING = ['..', 'shared'].join('/');
const SHARED_FOLDER = ['shared', ''].join('/');
const PATTERNS = [
  new RegExp(SIBLING.replace(/\./g, '\\.')),
  // path.join('..', 'shared') and the like.
  /['"]\.\.['"]\s*,\s*['"]shared['"]/,
];

t.test('self-contained - nothing in the repository reads, links or cites a folder beside the checkout', async (t) => {
  const files = textFiles(REPO);
  const hits: string[] = [];
  let read = 0;
  for (const file of files) {
    const relative = path.relative(REPO, file);
    if (relative === THIS_FILE) continue;
    const bytes = readFileSync(file);
    if (bytes.includes(0)) continue; // an image or a database file
    read += 1;
    const withSharedFolder = /\.(ts|tsx|md)$/.test(file);
    bytes
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        const cites =
          PATTERNS.some((pattern) => pattern.test(line)) || (withSharedFolder && line.includes(SHARED_FOLDER));
        if (cites) hits.push(`${relative}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
  }
  t.ok(read > 300, `${read} text files read`);
  t.ok(
    files.some((file) => file.endsWith(path.join('test', 'fixtures', 'standard-webhooks.json'))),
    "the Standard Webhooks vectors are the repository's own (test/fixtures)",
  );
  t.same(hits, [], `no file names ${SIBLING} (nor ${SHARED_FOLDER} in a .ts or .md file)`);
});

t.test('self-contained - the check finds what it looks for', async (t) => {
  const lines = [
    `readFileSync(new URL('../../${SIBLING}/vectors/x.json', import.meta.url))`,
    `see [the spec](${SIBLING}/SPEC.md)`,
    "path.join(REPO, '..', 'shared', 'vectors')",
  ];
  for (const line of lines)
    t.ok(
      PATTERNS.some((pattern) => pattern.test(line)),
      line,
    );
  t.notOk(
    PATTERNS.some((pattern) => pattern.test("a shared, busy machine; '..' and 'shared' apart")),
    'plain prose',
  );
});
