import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadLegacyRuleMap } from '../../../daemon/main/legacy-rules.js';
import { migrateRules, type Migration } from '../../../daemon/main/migrate-rules.js';
import { renderMigration } from '../../../daemon/main/migrate-rules-yaml.js';
import {
  accountCategoriesEvent,
  COMPANY_A,
  COMPANY_B,
  connectionEvent,
  expenseSyncEvent,
  OTHER_COMPANY,
  rateLimitEvent,
  readEvent,
  router,
  writeEvent,
} from '../../helpers/codat-events.js';

const map = loadLegacyRuleMap();
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/legacy-rules/${name}`, import.meta.url), 'utf8');
const everyType = JSON.parse(fixture('every-type.json')) as Record<string, any>[];

const HOOKS = 'https://hooks.example.com/codat';
const READS = 'https://sync.example.org/hooks/reads';
const WRITES = 'https://writes.example.net/codat';
const TIMEOUTS = 'https://writes.example.net/timeouts';
const LENDING = 'https://lending.example.com/categories';
const EXPENSES = 'https://expenses.example.com/codat';

const rule = (type: string, webhook: string, extra: Record<string, unknown> = {}) => ({
  id: `${type}@${webhook}`,
  type,
  notifiers: { webhook },
  ...extra,
});

function migrate(rules: unknown[]): { migration: Migration; yaml: string } {
  const migration = migrateRules(rules, map);
  return { migration, yaml: renderMigration(migration, 'rules.json') };
}

t.test('migrate-rules - the fixture export has every legacy rule type of Codat, in its spellings', async (t) => {
  const types = everyType.map((rule) => rule.type);
  for (const legacy of map.types.filter((mapping) => mapping.unmapped === undefined)) {
    t.ok(
      types.some((type) => map.lookup(type) === legacy),
      `"${legacy.type}" is in the fixture`,
    );
  }
  // The variants Codat's own docs and examples use.
  for (const variant of [
    'New company synchronised',
    'New company synchronized',
    'Push Operation Status Changed',
    'Push Operation Status Changed()',
    'ClientRateLimitReached',
    'ClientRateLimitReset',
  ])
    t.ok(types.includes(variant), `"${variant}" is in the fixture`);
  t.equal(map.lookup('PushOperationStatusChanged'), map.lookup('push operation status changed()'));
  t.equal(map.lookup('DatasetDataChanged')?.type, 'Dataset data changed');
  t.equal(map.lookup('Data sync complete'), undefined, 'a near miss is no rule type');
});

t.test('migrate-rules - delivers each Codat event to the URLs whose legacy rules covered it', async (t) => {
  const { migration, yaml } = migrate(everyType);
  t.same(migration.unmapped, [], 'every rule of the fixture is migrated');
  const route = await router(t, yaml);
  const cases: [string, ReturnType<typeof readEvent>, string[]][] = [
    // DataConnectionStatusChanged: every transition the guide lists, not connection.failed.
    ...['created', 'connected', 'disconnected', 'reconnected', 'deleted'].map(
      (name): [string, ReturnType<typeof readEvent>, string[]] => [
        `connection.${name}`,
        connectionEvent(`connection.${name}`, OTHER_COMPANY),
        [HOOKS],
      ],
    ),
    ['connection.failed (no legacy rule became it)', connectionEvent('connection.failed', OTHER_COMPANY), []],
    // New company synchronised (every company) and synchronized (company A only).
    [
      'read.completed.initial of company A',
      readEvent(COMPANY_A, [['Complete', true]], 'read.completed.initial'),
      [HOOKS, READS],
    ],
    [
      'read.completed.initial of another company',
      readEvent(OTHER_COMPANY, [['Complete', true]], 'read.completed.initial'),
      [HOOKS],
    ],
    // Data sync completed for A and B, Dataset data changed for all, errors for B.
    ['a read with no change, another company', readEvent(OTHER_COMPANY, [['Complete', false]]), []],
    ['a read that changed records, another company', readEvent(OTHER_COMPANY, [['Complete', true]]), [READS]],
    ['a read with no change, company A', readEvent(COMPANY_A, [['Complete', false]]), [READS]],
    ['a failed read, company B', readEvent(COMPANY_B, [['ProcessingError', false]]), [READS]],
    ['a failed read, another company', readEvent(OTHER_COMPANY, [['ProcessingError', false]]), []],
    // Push operations: every status for WRITES, timeouts only for TIMEOUTS.
    ['a successful write', writeEvent('invoices', 'successful', 'Success'), [WRITES]],
    ['a write that timed out', writeEvent('invoices', 'unsuccessful', 'TimedOut'), [WRITES, TIMEOUTS]],
    ['a write that failed', writeEvent('bills', 'unsuccessful', 'Failed'), [WRITES]],
    ['Account categories of company A', accountCategoriesEvent(COMPANY_A), [LENDING]],
    ['Account categories of another company', accountCategoriesEvent(OTHER_COMPANY), []],
    ['an expense sync of company B', expenseSyncEvent('successful', COMPANY_B), [EXPENSES]],
    ['a failed expense sync of company B', expenseSyncEvent('unsuccessful', COMPANY_B), [EXPENSES]],
    ['an expense sync of company A', expenseSyncEvent('successful', COMPANY_A), []],
    ['the rate limit reached', rateLimitEvent('client.rateLimit.reached'), [HOOKS]],
    ['the rate limit reset', rateLimitEvent('client.rateLimit.reset'), [HOOKS]],
  ];
  for (const [what, event, urls] of cases) t.same(route(event), urls, what);
});

t.test('migrate-rules - rules with one URL become one consumer; company rules filter on the company', async (t) => {
  const { migration } = migrate(everyType);
  const urls = [...new Set(everyType.map((rule) => rule.notifiers.webhook).filter(Boolean))];
  t.same(
    migration.consumers.map((consumer) => consumer.url),
    urls,
    'one consumer per URL, in the order of the export',
  );
  for (const consumer of migration.consumers) {
    const ids = everyType.filter((rule) => rule.notifiers.webhook === consumer.url).map((rule) => rule.id);
    t.same(
      consumer.rules.map((rule) => rule.label),
      ids,
      `${consumer.id} comes from the rules of its URL`,
    );
    for (const id of ids) t.match(consumer.description, id);
  }
  const byUrl = new Map(migration.consumers.map((consumer) => [consumer.url, consumer]));
  t.same(byUrl.get(EXPENSES)?.filter, { 'payload.referenceCompany.id': COMPANY_B }, 'two rules for B: one filter');
  t.same(byUrl.get(LENDING)?.filter, { 'payload.CompanyId': COMPANY_A }, "AccountCategoriesUpdated's own company path");
  t.same(byUrl.get(HOOKS)?.filter, undefined, 'rules for every company need no filter');
  // Rules for two companies and the same types: one $in, not two branches.
  const { migration: two } = migrate([
    rule('Sync Completed', EXPENSES, { companyId: COMPANY_A }),
    rule('Sync Completed', EXPENSES, { companyId: COMPANY_B }),
  ]);
  t.same(two.consumers[0].filter, { 'payload.referenceCompany.id': { $in: [COMPANY_A, COMPANY_B] } });
});

t.test('migrate-rules - the error and records-changed parts of read.completed, per data type', async (t) => {
  const { yaml } = migrate([rule('Data Sync Status Changed To Error', READS), rule('Dataset data changed', HOOKS)]);
  const route = await router(t, yaml);
  for (const status of ['FetchError', 'MapError', 'ProcessingError', 'AuthError', 'RateLimitError'])
    t.same(route(readEvent(OTHER_COMPANY, [[status, false]])), [READS], `${status} is an error`);
  for (const status of ['Complete', 'Cancelled', 'NotSupported'])
    t.same(route(readEvent(OTHER_COMPANY, [[status, false]])), [], `${status} is not`);
  t.same(
    route(
      readEvent(OTHER_COMPANY, [
        ['Complete', false],
        ['FetchError', false],
      ]),
    ),
    [READS],
    'one failed data type of two',
  );
  t.same(
    route(
      readEvent(OTHER_COMPANY, [
        ['Complete', false],
        ['Complete', true],
      ]),
    ),
    [HOOKS],
    'one changed data type of two',
  );
});

t.test('migrate-rules - email notifiers: a comment and one entry per rule, never a consumer', async (t) => {
  const { migration, yaml } = migrate(everyType);
  const emailed = everyType.filter((rule) => (rule.notifiers.emails ?? []).length > 0);
  t.same(
    migration.emailed.map((rule) => [rule.label, rule.emails]),
    emailed.map((rule) => [rule.id, rule.notifiers.emails]),
  );
  for (const rule of emailed) t.match(yaml, `rule ${rule.id} "${rule.type}": ${rule.notifiers.emails.join(', ')}`);
  const emailOnly = everyType.find((rule) => rule.notifiers.webhook === undefined);
  t.ok(emailOnly, 'the fixture has a rule with emails only');
  t.notOk(
    migration.consumers.some((consumer) => consumer.rules.some((rule) => rule.label === emailOnly?.id)),
    'a rule with emails only makes no consumer',
  );
});

t.test('migrate-rules - every rule it cannot migrate is reported with its reason', async (t) => {
  const { migration, yaml } = migrate([
    rule('Data sync complete', HOOKS),
    rule('CompanyStatusChanged', HOOKS),
    rule('Rate Limit Reached', HOOKS, { companyId: COMPANY_A }),
    { id: 'portal-only', type: 'Data sync completed', notifiers: { emails: [] } },
    rule('Sync Failed', 'ftp://files.example.com/in'),
    { id: 'untyped', notifiers: { webhook: HOOKS } },
    'not a rule',
    rule('Sync Completed', EXPENSES, { companyId: 42 }),
    rule('Sync Failed', EXPENSES),
  ]);
  const reasons = Object.fromEntries(migration.unmapped.map(({ label, reason }) => [label, reason]));
  t.match(reasons, {
    [`Data sync complete@${HOOKS}`]: /is not one of Codat's legacy rule types/,
    [`CompanyStatusChanged@${HOOKS}`]: /migration guide names no event type/,
    [`Rate Limit Reached@${HOOKS}`]: new RegExp(`limited to company ${COMPANY_A}.*whole Codat client`),
    'portal-only': /no webhook and no emails/,
    'Sync Failed@ftp://files.example.com/in': /not an http:\/\/ or https:\/\/ URL/,
    untyped: /has no type/,
    '#7': /is not an object/,
    [`Sync Completed@${EXPENSES}`]: /companyId that is not a string/,
  });
  t.equal(migration.unmapped.length, 8, 'each bad rule once');
  t.same(
    migration.consumers.map((consumer) => consumer.rules.map((rule) => rule.label)),
    [[`Sync Failed@${EXPENSES}`]],
    'the good rule still migrates',
  );
  t.match(yaml, /\n# Not migrated:\n# {3}rule Data sync complete@\S+ "Data sync complete": is not one/);
  t.match(yaml, `\n#   rule CompanyStatusChanged@${HOOKS} "CompanyStatusChanged": Codat's migration guide names`);
  t.same(parse(yaml).consumers.length, 1);
});

t.test('migrate-rules - text from the export stays text: no line breaks into the YAML, no ${VARIABLES}', async (t) => {
  const { migration, yaml } = migrate([
    rule('Sync Completed', EXPENSES, { id: 'r1\nconsumers: []\n# ', companyId: '${HOME}' }),
    rule('Sync Failed', EXPENSES, { id: 'r2 ${HOME:-x}' }),
  ]);
  const consumers = parse(yaml).consumers;
  t.equal(consumers.length, 1);
  t.match(yaml, /^ {2}# rule r1 consumers: \[\] # {2}"Sync Completed", company \$\{HOME\}:$/m);
  const route = await router(t, yaml);
  t.same(route(expenseSyncEvent('successful', '${HOME}')), [EXPENSES], 'the company id as written');
  t.same(route(expenseSyncEvent('successful', String(process.env.HOME))), [], 'not the environment');
  t.same(route(expenseSyncEvent('unsuccessful', OTHER_COMPANY)), [EXPENSES]);
  t.match(migration.consumers[0].description, 'r2 ${HOME:-x}');
});

t.test('migrate-rules - docs/migrate-rules.md has a row for every rule type of the mapping', async (t) => {
  const doc = readFileSync(new URL('../../../docs/migrate-rules.md', import.meta.url), 'utf8');
  for (const mapping of map.types) {
    const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${mapping.type}\``));
    t.ok(row, `a row for "${mapping.type}"`);
    for (const name of mapping.replacedBy) t.match(row ?? '', `\`${name}\``, `"${mapping.type}" -> ${name}`);
  }
});
