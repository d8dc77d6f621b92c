import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../daemon/errors.js';

t.test('error codes - docs/errors.md lists every code with its status and meaning, and nothing else', async (t) => {
  const rows = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const documented = Object.fromEntries(rows.map(([, code, status, meaning]) => [code.replace(/`/g, ''), { status: Number(status), meaning }]));
  t.same(documented, ERROR_CODES);
});
