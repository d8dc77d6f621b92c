import { readFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { typeCheckWithApi } from '../helpers/api-types.js';
import { REPO } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';

// The console's record types (console/src/types.ts) are written by hand: this holds them to the
// API. Each answer the live /openapi.json describes must be assignable to the console type that
// reads it, so a field the console reads that the API renames, drops or retypes fails here.

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

/** tsc's complaints when an answer does not fit the console type that reads it; empty when all fit. */
async function check(t: Test, document: unknown): Promise<string> {
  const lines = [
    "import type { components } from './api.js';",
    "import type * as Console from './types.js';",
    "type Answer = components['schemas'];",
    ...READS.map(([type, schema]) => `export const ${type}: Console.${type} = {} as Answer['${schema}'];`),
  ];
  const types = readFileSync(path.join(REPO, 'console', 'src', 'types.ts'), 'utf8');
  const files = { 'types.ts': types, 'check.ts': lines.join('\n') + '\n' };
  return (await typeCheckWithApi(t, document, files, 'check.ts')).output;
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
