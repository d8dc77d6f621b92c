import { readFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { typeCheckWithApi } from '../../helpers/api-types.js';
import { REPO } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';

const PROGRAM = path.join(REPO, 'test', 'fixtures', 'api-client.ts');
/** The program that uses every route, type-checked against the client types of `document`. */
const typeCheck = (t: Test, document: unknown) =>
  typeCheckWithApi(t, document, { 'client.ts': readFileSync(PROGRAM, 'utf8') }, 'client.ts');

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
