import t from 'tap';
import { CATALOG } from '../../helpers/catalog.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { json, tempDir } from '../../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../../helpers/in-process.js';

/** A receiver nothing listens on: these tests deliver nothing. */
const NOWHERE = 'http://127.0.0.1:9';

async function ids(hooksd: InProcess, query: string): Promise<string[]> {
  const { status, body } = await hooksd.api(`/v1/consumers?${query}`);
  if (status !== 200) throw new Error(`list answered ${status}: ${JSON.stringify(body)}`);
  return body.data.map((c: { id: string }) => c.id);
}

t.test('api consumers - refused bodies create nothing; config-file consumers are read-only', async (t) => {
  const hooksd = await startInProcess(t, {
    eventTypes: CATALOG,
    consumers: [{ id: 'from-yaml', url: `${NOWHERE}/yaml`, eventTypes: ['read.completed'] }],
  });
  const duplicate = await hooksd.api('/v1/consumers', json('POST', { id: 'from-yaml', url: NOWHERE }));
  t.same([duplicate.status, duplicate.body.code], [409, 'HOOKSD_CONSUMER_EXISTS']);
  const badFilter = await hooksd.api(
    '/v1/consumers',
    json('POST', { id: 'bad', url: NOWHERE, filter: { 'payload.x': { $near: 1 } } }),
  );
  t.same([badFilter.status, badFilter.body.code], [400, 'HOOKSD_INVALID_REQUEST'], 'a filter the plugin refuses');
  t.match(badFilter.body.message, /\$near/);
  const fileField = await hooksd.api(
    '/v1/consumers',
    json('POST', { id: 'bad', url: NOWHERE, transform: '/etc/passwd' }),
  );
  t.equal(fileField.status, 400, 'fields naming files on the gateway stay in the YAML');
  const badDuration = await hooksd.api(
    '/v1/consumers',
    json('POST', { id: 'bad', url: NOWHERE, retrySchedule: ['soon'] }),
  );
  t.match(badDuration.body, { code: 'HOOKSD_INVALID_REQUEST', message: /retrySchedule\.0: must be a duration/ });
  t.equal((await hooksd.api('/v1/consumers/bad')).status, 404, 'nothing was created by refused requests');

  const readOnly = await hooksd.api('/v1/consumers/from-yaml', json('PATCH', { description: 'x' }));
  t.same([readOnly.status, readOnly.body.code], [409, 'HOOKSD_CONSUMER_READ_ONLY']);
  t.equal((await hooksd.api('/v1/consumers/from-yaml', { method: 'DELETE' })).body.code, 'HOOKSD_CONSUMER_READ_ONLY');
  t.match(
    (await hooksd.api('/v1/consumers/from-yaml')).body,
    { id: 'from-yaml', source: 'yaml', description: '' },
    'and unchanged',
  );
});

t.test('api consumers - a consumer shows its transform script, null when it has none', async (t) => {
  const script = path.join(tempDir(t), 'tag.js');
  writeFileSync(script, 'function handler(webhook) { return webhook; }\n');
  const hooksd = await startInProcess(t, {
    eventTypes: CATALOG,
    consumers: [
      { id: 'reshaped', url: `${NOWHERE}/a`, transform: script, rateLimit: 5 },
      { id: 'plain', url: `${NOWHERE}/b` },
    ],
  });
  // As the YAML names it, relative to the config file's folder: not the machine's whole layout.
  const shown = path.relative(path.dirname(hooksd.configFile), script);
  t.ok(!path.isAbsolute(shown) && shown.endsWith('tag.js'), shown);
  t.match((await hooksd.api('/v1/consumers/reshaped')).body, { transform: shown, rateLimit: 5 });
  t.match((await hooksd.api('/v1/consumers/plain')).body, { transform: null, rateLimit: null });
  const made = await hooksd.api('/v1/consumers', json('POST', { id: 'made', url: `${NOWHERE}/c` }));
  t.same([made.status, made.body.transform], [201, null], 'an API consumer has none (the API takes no file paths)');
  t.same(
    (await hooksd.api('/v1/consumers')).body.data.map((c: { id: string; transform: string | null }) => [
      c.id,
      c.transform,
    ]),
    [
      ['made', null],
      ['plain', null],
      ['reshaped', shown],
    ],
    'and in the list',
  );
});

t.test('api consumers - list filters and a cursor walk that stays right while consumers are added', async (t) => {
  const hooksd = await startInProcess(t, {
    eventTypes: CATALOG,
    consumers: [
      {
        id: 'yaml-reads',
        url: `${NOWHERE}/reads`,
        eventTypes: ['read.*'],
        description: 'Reads into the warehouse',
      },
      { id: 'yaml-off', url: `${NOWHERE}/off`, disabled: true },
    ],
  });
  for (let i = 0; i < 12; i += 1) {
    const made = await hooksd.api(
      '/v1/consumers',
      json('POST', {
        id: `api-${String(i).padStart(2, '0')}`,
        url: `${NOWHERE}/c${i}`,
        eventTypes: i % 2 === 0 ? ['company.created'] : ['company.*'],
      }),
    );
    t.equal(made.status, 201);
  }
  t.same(await ids(hooksd, 'source=yaml'), ['yaml-off', 'yaml-reads']);
  t.same(await ids(hooksd, 'disabled=true'), ['yaml-off']);
  t.same(
    await ids(hooksd, 'eventType=read.completed'),
    ['yaml-off', 'yaml-reads'],
    "'*' and 'read.*' both take read.completed",
  );
  t.equal((await ids(hooksd, 'eventType=company.deleted&source=api')).length, 6, "only the 'company.*' ones");
  t.same(await ids(hooksd, 'q=WAREHOUSE'), ['yaml-reads'], 'q searches the description in any case');
  t.same(await ids(hooksd, 'q=%2Fc11'), ['api-11'], 'and the url');
  t.equal((await hooksd.api('/v1/consumers?source=git')).status, 400);

  const seen: string[] = [];
  let cursor: string | null = null;
  let page = 0;
  do {
    const { body }: { body: any } = await hooksd.api(`/v1/consumers?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...body.data.map((c: { id: string }) => c.id));
    cursor = body.nextCursor;
    // Added mid-walk: one sorts before the walk's position, one after.
    if (page++ === 0) {
      await hooksd.api('/v1/consumers', json('POST', { id: 'aaa-new', url: `${NOWHERE}/a` }));
      await hooksd.api('/v1/consumers', json('POST', { id: 'zzz-new', url: `${NOWHERE}/z` }));
    }
  } while (cursor !== null);
  t.equal(new Set(seen).size, seen.length, 'no consumer twice');
  const existing = [
    ...Array.from({ length: 12 }, (_, i) => `api-${String(i).padStart(2, '0')}`),
    'yaml-off',
    'yaml-reads',
  ];
  t.same(
    existing.filter((id) => !seen.includes(id)),
    [],
    'none of those present at the start is missed',
  );
  t.ok(seen.includes('zzz-new') && !seen.includes('aaa-new'), 'new ones appear only ahead of the cursor');

  const types = await hooksd.api('/v1/event-types');
  t.same(
    types.body.data.map((e: { name: string }) => e.name),
    ['company.created', 'company.deleted', 'read.completed'],
  );
  t.match(types.body.data[0], {
    description: 'A company was created.',
    schema: { required: ['name'] },
    example: { name: 'Acme Ltd' },
  });
  t.same(types.body.data[2], { name: 'read.completed', description: '', schema: null, example: null });
  const paged = await hooksd.api('/v1/event-types?limit=2');
  t.equal(paged.body.data.length, 2);
  t.same(
    (await hooksd.api(`/v1/event-types?cursor=${paged.body.nextCursor}`)).body.data.map(
      (e: { name: string }) => e.name,
    ),
    ['read.completed'],
  );
});

t.test(
  'mock event - refused for a type without an example or outside the catalog, and for a disabled consumer',
  async (t) => {
    const hooksd = await startInProcess(t, {
      eventTypes: CATALOG,
      consumers: [{ id: 'partner', url: NOWHERE, eventTypes: ['read.completed'] }],
    });
    const test = (eventType: string) => hooksd.api('/v1/consumers/partner/test', json('POST', { eventType }));
    const noExample = await test('read.completed');
    t.match(noExample, { status: 400, body: { code: 'HOOKSD_INVALID_REQUEST', message: /no example/ } });
    const unknownType = await test('nope.nothing');
    t.match(unknownType, {
      status: 400,
      body: { code: 'HOOKSD_INVALID_REQUEST', message: /not in the event catalog/ },
    });
    t.equal((await hooksd.api('/v1/consumers/partner/disable', json('POST'))).status, 200);
    t.equal((await test('company.created')).body.code, 'HOOKSD_CONSUMER_DISABLED');
    t.same((await hooksd.api('/v1/messages?consumerId=partner')).body.data, [], 'no refused request made a message');
  },
);
