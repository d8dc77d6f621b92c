import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import t, { type Test } from 'tap';
import { REPO, tempDir } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';

// The console's record types (console/src/types.ts) are written by hand: this holds them to the
// API. Each answer the live /openapi.json describes must be assignable to the console type that
// reads it, so a field the console reads that the API renames, drops or retypes fails here.
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** Console type → the schema in /openapi.json's components that answers it. */
const READS: [string, string][] = [
  ['Consumer', 'Consumer'],
  ['Message', 'Message'],
  ['Attempt', 'Attempt'],
  ['EventRecord', 'Event'],
  ['EventWithMessages', 'EventWithMessages'],
  ['EventType', 'EventType'],
  ['DeadLetter', 'DeadLetter'],
  ['Task', 'Task'],
  ['TaskPart', 'TaskPart'],
  ['Instance', 'Instance'],
  ['Instances', 'Instances'],
  ['Readiness', 'Readiness'],
  ['Stats', 'StatsOverview'],
  ['ConsumerStats', 'ConsumerStats'],
  ['OpsEvent', 'OpsEvent'],
];

async function check(t: Test, document: unknown) {
  const dir = tempDir(t, 'console-types');
  writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(document as never)));
  copyFileSync(path.join(REPO, 'console', 'src', 'types.ts'), path.join(dir, 'types.ts'));
  const lines = [
    "import type { components } from './api.js';",
    "import type * as Console from './types.js';",
    "type Answer = components['schemas'];",
    ...READS.map(([type, schema]) => `export const ${type}: Console.${type} = {} as Answer['${schema}'];`),
  ];
  writeFileSync(path.join(dir, 'check.ts'), lines.join('\n') + '\n');
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', dir], { cwd: dir });
    return '';
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return stdout + stderr || String(error);
  }
}

t.test("console types - every record the console reads is what the API's schemas answer", async (t) => {
  const hooksd = await startInProcess(t, { eventTypes: [{ name: 'order.placed' }] });
  const { body: document } = await hooksd.api('/openapi.json');
  t.same(
    READS.map(([, schema]) => schema).filter((schema) => !(schema in document.components.schemas)),
    [],
    'every schema named is in the document',
  );
  t.equal(await check(t, document), '', 'the answers fit the console types');

  // The check can fail: an API that renamed a field the console reads.
  const renamed = structuredClone(document);
  const consumer = renamed.components.schemas.Consumer;
  consumer.properties.timeout = consumer.properties.timeoutMs;
  delete consumer.properties.timeoutMs;
  consumer.required = consumer.required.map((name: string) => (name === 'timeoutMs' ? 'timeout' : name));
  t.match(await check(t, renamed), /timeoutMs/, 'a renamed field fails the check');
});
