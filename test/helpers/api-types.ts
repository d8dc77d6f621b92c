import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import type { Test } from 'tap';
import { REPO, tempDir } from './hooksd.js';

const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * Generates the client types of an OpenAPI `document` with openapi-typescript as `api.d.ts`, in a
 * folder of its own beside `files` (name → text), and type-checks `entry` as a strict project
 * would. `output` is what tsc printed, empty when it passed.
 */
export async function typeCheckWithApi(
  t: Test,
  document: unknown,
  files: Record<string, string>,
  entry: string,
): Promise<{ ok: boolean; output: string }> {
  const dir = tempDir(t, 'hooksd-api-types');
  writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(document as never)));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [path.join(REPO, 'node_modules', '@types')],
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [entry] }));
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', dir], { cwd: dir });
    return { ok: true, output: '' };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr || String(error) };
  }
}
