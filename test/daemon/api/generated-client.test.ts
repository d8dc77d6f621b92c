import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import { REPO, tempDir } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';

const PROGRAM = path.join(REPO, 'test', 'fixtures', 'api-client.ts');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * Generates the client types of `document` with openapi-typescript into a folder of its own,
 * beside the program that uses every route, and type-checks both as a strict project would.
 */
async function typeCheck(t: Parameters<Parameters<typeof t.test>[1]>[0], document: unknown) {
  const dir = tempDir(t, 'hooksd-client');
  writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(document as never)));
  copyFileSync(PROGRAM, path.join(dir, 'client.ts'));
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [path.join(REPO, 'node_modules', '@types')],
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['client.ts'] }));
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', dir], { cwd: dir });
    return { ok: true, output: '' };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr };
  }
}

t.test(
  'generated client - types generated from the live /openapi.json type-check a program using every route',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: [{ name: 'order.placed' }] });
    const { body: document } = await hooksd.api('/openapi.json');

    const operations = Object.entries(document.paths).flatMap(([route, methods]: [string, any]) =>
      Object.keys(methods).map((method) => `${method} ${route}`),
    );
    const used = new Set(
      [...readFileSync(PROGRAM, 'utf8').matchAll(/\bcall\(\s*'(\w+)',\s*'([^']+)'/g)].map(
        ([, m, route]) => `${m} ${route}`,
      ),
    );
    t.ok(operations.length >= 28, `${operations.length} operations`);
    t.same(
      operations.filter((operation) => !used.has(operation)),
      [],
      'the program calls every route',
    );
    t.same(
      [...used].filter((operation) => !operations.includes(operation)),
      [],
      'and none that is not',
    );

    const checked = await typeCheck(t, document);
    t.equal(checked.output, '', 'tsc reports nothing');
    t.ok(checked.ok, 'the program type-checks against the generated client');
  },
);

t.test(
  'generated client - a time described as a number, or answers without schemas, fail the type check',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: [{ name: 'order.placed' }] });
    const { body: document } = await hooksd.api('/openapi.json');

    const numberTime = structuredClone(document);
    numberTime.components.schemas.Message.properties.createdAt = { type: 'integer' };
    const wrongTime = await typeCheck(t, numberTime);
    t.notOk(wrongTime.ok, 'a wrong schema fails');
    t.match(wrongTime.output, /client\.ts\(\d+,\d+\): error TS2345: Argument of type 'number' is not assignable/);

    // As the document was before: every success answer described by an empty schema.
    const noSchemas = structuredClone(document);
    for (const methods of Object.values(noSchemas.paths) as any[])
      for (const operation of Object.values(methods) as any[])
        for (const answer of Object.values(operation.responses) as any[])
          if (answer.content?.['application/json']) answer.content['application/json'].schema = {};
    const missing = await typeCheck(t, noSchemas);
    t.notOk(missing.ok, 'missing schemas fail');
    t.match(missing.output, /client\.ts\(\d+,\d+\): error TS\d+: .*unknown/);
  },
);
