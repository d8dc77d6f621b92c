import path from 'node:path';
import t, { type Test } from 'tap';
import { HooksdError } from '../../daemon/common/errors.js';
import { loadConfig, validateConfigFile } from '../../config/loader.js';

/** Writes `lines` as hooks.config.yaml in a fresh folder; line N of the file is lines[N - 1]. */
function writeConfig(t: Test, lines: string[]): string {
  const dir = t.testdir({ 'hooks.config.yaml': lines.join('\n') + '\n' });
  return path.join(dir, 'hooks.config.yaml');
}

const NO_ENV = {};

t.test(
  'config loader - reports a misspelt key and a bad duration at their lines and columns, both at once',
  async (t) => {
    const file = writeConfig(t, [
      'delivery:',
      '  timeuot: 5s',
      'consumers:',
      '  - id: a',
      '    url: https://a.example.com',
      '    retrySchedule:',
      '      - 0s',
      '      - "5 seconds"',
    ]);
    const { problems, config } = validateConfigFile(file, NO_ENV);
    t.equal(config, undefined);
    t.same(problems, [
      `${file}:2:3 delivery.timeuot: unknown key "timeuot" (did you mean "timeout"?)`,
      `${file}:8:9 consumers[0].retrySchedule[1]: must be a duration like "250ms", "5s", "5m", "2h", "5d"`,
    ]);

    const error = t.throws(() => loadConfig(file, NO_ENV)) as HooksdError;
    t.equal(error.code, 'HOOKSD_CONFIG_INVALID');
    t.equal(error.message, problems.join('\n'));
    t.same(error.details, problems);
  },
);

t.test('config loader - the retry keys that moved to the schedule plugin say where they went', async (t) => {
  const file = writeConfig(t, ['delivery:', '  retrySchedule: ["0s", "1m"]', '  jitter: 0.1', '  overloadFloor: 2m']);
  const problems = validateConfigFile(file, NO_ENV).problems;
  t.equal(problems.length, 3);
  t.match(problems[0], `${file}:2:3 delivery.retrySchedule: moved to the options of the schedule plugin: `);
  t.match(problems[0], '{ use: schedule, options: { schedule: … } }');
  t.match(problems[1], `${file}:3:3 delivery.jitter: moved to the options of the schedule plugin`);
  t.match(problems[2], `${file}:4:3 delivery.overloadFloor: moved to the options of the schedule plugin`);
});

t.test('config loader - points at the object that lacks a required key', async (t) => {
  const file = writeConfig(t, [
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '  - id: crm',
    '    description: no url',
  ]);
  t.same(validateConfigFile(file, NO_ENV).problems, [`${file}:4:5 consumers[1]: must have required property 'url'`]);
});

t.test('config loader - applies every default and gives durations in milliseconds', async (t) => {
  const file = writeConfig(t, [
    'delivery:',
    '  timeout: 250ms',
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '    retrySchedule: ["0s", 0, "1m", "2h", "1d"]',
  ]);
  const config = loadConfig(file, NO_ENV);
  t.equal(config.delivery.timeout, 250);
  t.same(config.pipeline, ['eventTypes', 'payloadFilter', 'script', 'standardWebhooks', 'schedule']);
  t.equal(config.delivery.disableAfter, 5 * 86_400_000);
  t.equal(config.storage.retention, 30 * 86_400_000);
  t.equal(config.shutdown.timeout, 20_000);
  t.equal(config.server.listen, '0.0.0.0:8080');
  t.equal(config.nats.stream, 'HOOKS_EVENTS');
  t.equal(config.nats.servers, undefined);
  t.same(config.delivery.network, { allowPrivate: false, allowCidrs: [] });
  t.same(config.consumers[0].retrySchedule, [0, 0, 60_000, 7_200_000, 86_400_000]);
  t.same(config.consumers[0].eventTypes, ['*']);
  t.same(config.consumers[0].headers, {});
  t.equal(config.consumers[0].disabled, false);
});

t.test(
  'config loader - reads an empty file, and a section whose keys are all commented out, as all defaults',
  async (t) => {
    const empty = loadConfig(writeConfig(t, []), NO_ENV);
    const commented = loadConfig(writeConfig(t, ['delivery:', '  # timeout: 5s', 'consumers:']), NO_ENV);
    t.same(commented, empty);
    t.equal(empty.delivery.timeout, 15_000);
    t.same(empty.consumers, []);
  },
);

t.test('config loader - returns a deeply frozen config', async (t) => {
  const config = loadConfig(writeConfig(t, ['consumers:', '  - { id: a, url: "https://a.example.com" }']), NO_ENV);
  t.ok(Object.isFrozen(config));
  t.ok(Object.isFrozen(config.delivery.network.allowCidrs));
  t.ok(Object.isFrozen(config.consumers[0].headers));
  t.throws(() => {
    (config.delivery as { timeout: number }).timeout = 1;
  });
});

t.test('config loader - resolves storage.path and consumer file paths against the config file folder', async (t) => {
  const file = writeConfig(t, [
    'storage: { path: ./state }',
    'consumers:',
    '  - id: a',
    '    url: https://a.example.com',
    '    transform: ./transforms/a.js',
    '    tls: { cert: certs/a.crt, key: /etc/hooksd/a.key }',
  ]);
  const dir = path.dirname(file);
  const config = loadConfig(file, NO_ENV);
  t.equal(config.storage.path, path.join(dir, 'state'));
  t.equal(config.consumers[0].transform, path.join(dir, 'transforms/a.js'));
  t.same(config.consumers[0].tls, { cert: path.join(dir, 'certs/a.crt'), key: '/etc/hooksd/a.key' });
});

t.test('config loader - substitutes environment variables, with ${NAME:-default} when unset or empty', async (t) => {
  const file = writeConfig(t, [
    'server:',
    '  listen: "${HOST:-127.0.0.1}:${PORT:-8080}"',
    '  auth:',
    '    tokens:',
    '      - { name: ops, token: "${OPS_TOKEN}", scopes: [admin] }',
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '    description: costs $${AMOUNT}',
    '    headers: { Authorization: "Bearer ${BILLING_TOKEN:-none}" }',
  ]);
  const config = loadConfig(file, {
    PORT: '9090',
    HOST: '',
    OPS_TOKEN: 'a-token-of-sixteen-chars',
    BILLING_TOKEN: 'b-token',
  });
  t.equal(config.server.listen, '127.0.0.1:9090');
  t.equal(config.server.auth.tokens[0].token, 'a-token-of-sixteen-chars');
  t.equal(config.consumers[0].headers.Authorization, 'Bearer b-token');
  t.equal(config.consumers[0].description, 'costs ${AMOUNT}');
});

t.test('config loader - reports an unset environment variable at the value that uses it', async (t) => {
  const file = writeConfig(t, [
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '    secret: "${BILLING_WEBHOOK_SECRET:-whsec_K2DT9TTr2cnjcN2z7gozTK40cWfQbkAP}"',
    '    headers:',
    '      Authorization: "Bearer ${BILLING_TOKEN}"',
  ]);
  // The emptied value would also fail the header's schema; only the cause is reported.
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:6:22 consumers[0].headers.Authorization: environment variable BILLING_TOKEN is not set`,
  ]);
});

t.test('config loader - refuses headers that hooksd sets itself, whatever their case', async (t) => {
  const file = writeConfig(t, [
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '    headers:',
    '      X-Api-Key: fine',
    '      Webhook-Id: mine',
    '      content-TYPE: text/plain',
  ]);
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:6:7 consumers[0].headers["Webhook-Id"]: header "Webhook-Id" is set by hooksd and cannot be configured`,
    `${file}:7:7 consumers[0].headers["content-TYPE"]: header "content-TYPE" is set by hooksd and cannot be configured`,
  ]);
});

t.test('config loader - reports a duplicate consumer id at the second one', async (t) => {
  const file = writeConfig(t, [
    'consumers:',
    '  - id: billing',
    '    url: https://billing.example.com/webhooks',
    '  - id: billing',
    '    url: https://billing-eu.example.com/webhooks',
  ]);
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:4:9 consumers[1].id: duplicate consumer id "billing" (first at consumers[0])`,
  ]);
});

t.test('config loader - reports a duplicate event type name', async (t) => {
  const file = writeConfig(t, ['eventTypes:', '  - name: company.created', '  - name: company.created']);
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:3:11 eventTypes[1].name: duplicate event type "company.created" (first at eventTypes[0])`,
  ]);
});

t.test(
  'config loader - reports an event-type schema that does not compile, and an example that fails its schema',
  async (t) => {
    const file = writeConfig(t, [
      'eventTypes:',
      '  - name: company.created',
      '    schema:',
      '      type: object',
      '      requird: [companyId]',
      '  - name: connection.created',
      '    schema: { type: object, required: [connection] }',
      '    example: { conection: {} }',
    ]);
    t.same(validateConfigFile(file, NO_ENV).problems, [
      `${file}:4:7 eventTypes[0].schema: schema does not compile: strict mode: unknown keyword: "requird"`,
      `${file}:8:14 eventTypes[1].example: does not match the schema: ` +
        `example: must have required property 'connection'`,
    ]);
  },
);

t.test('config loader - checks 2020-12 event-type schemas and their formats', async (t) => {
  const file = writeConfig(t, [
    'eventTypes:',
    '  - name: connection.created',
    '    schema:',
    '      $schema: https://json-schema.org/draft/2020-12/schema',
    '      type: object',
    '      properties:',
    '        ids: { type: array, prefixItems: [{ format: uuid }, { format: date-time }] }',
    '    example: { ids: [not-a-uuid, "2024-05-13T09:21:47Z"] }',
  ]);
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:8:14 eventTypes[0].example: does not match the schema: example/ids/0: must match format "uuid"`,
  ]);
});

t.test('config loader - names the line and column of a YAML syntax error', async (t) => {
  const file = writeConfig(t, ['delivery:', '  timeout: 5s', '  jitter: @x']);
  t.same(validateConfigFile(file, NO_ENV).problems, [
    `${file}:3:11 syntax error: Plain value cannot start with reserved character @`,
  ]);
});

t.test('config loader - reports a duplicate YAML key', async (t) => {
  const file = writeConfig(t, ['delivery:', '  timeout: 5s', '  timeout: 6s']);
  t.match(validateConfigFile(file, NO_ENV).problems, [
    new RegExp(`^${file}:3:3 syntax error: Map keys must be unique`),
  ]);
});

t.test('config loader - converts a duration once when an alias repeats it', async (t) => {
  const file = writeConfig(t, [
    'consumers:',
    '  - { id: a, url: "https://a.example.com", retrySchedule: &fast ["0s", "1m"] }',
    '  - { id: b, url: "https://b.example.com", retrySchedule: *fast }',
  ]);
  const config = loadConfig(file, NO_ENV);
  t.same(config.consumers[1].retrySchedule, [0, 60_000]);
});

t.test('config loader - names an unreadable file', async (t) => {
  const file = path.join(t.testdir({}), 'missing.yaml');
  const error = t.throws(() => loadConfig(file)) as HooksdError;
  t.equal(error.code, 'HOOKSD_CONFIG_UNREADABLE');
  t.match(error.message, file);
  t.match(validateConfigFile(file).problems, [file]);
});

t.test('config loader - refuses a cron schedule that does not parse', async (t) => {
  const dir = t.testdir({ 'hooks.config.yaml': 'delivery:\n  sweepSchedule: "every second"\n' });
  const { problems } = validateConfigFile(`${dir}/hooks.config.yaml`, {});
  t.equal(problems.length, 1);
  t.match(problems[0], /hooks\.config\.yaml:2:18 delivery\.sweepSchedule: must be a cron expression with seconds/);
});

t.test('config loader - refuses an allowCidrs entry that is not an address range', async (t) => {
  const dir = t.testdir({
    'hooks.config.yaml': 'delivery:\n  network:\n    allowCidrs: ["10.0.0.0/8", "10.0.0.0/33", "fd00::/8", "nope"]\n',
  });
  const { problems } = validateConfigFile(`${dir}/hooks.config.yaml`, {});
  t.equal(problems.length, 2);
  t.match(problems[0], /delivery\.network\.allowCidrs\[1\]: must be an IP address or a CIDR range/);
  t.match(problems[1], /delivery\.network\.allowCidrs\[3\]: must be an IP address or a CIDR range/);
});
