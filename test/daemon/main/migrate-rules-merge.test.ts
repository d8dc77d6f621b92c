import t from 'tap';
import fc from 'fast-check';
import { loadLegacyRuleMap } from '../../../daemon/main/legacy-rules.js';
import { migrateRules, type MigratedConsumer } from '../../../daemon/main/migrate-rules.js';
import { compileEventTypeSelector } from '../../../plugins/eventTypes.js';
import { compilePayloadFilter } from '../../../plugins/payloadFilter.js';
import {
  accountCategoriesEvent,
  COMPANY_A,
  COMPANY_B,
  connectionEvent,
  expenseSyncEvent,
  OTHER_COMPANY,
  rateLimitEvent,
  readEvent,
  writeEvent,
  type Envelope,
} from '../../helpers/codat-events.js';
import { fuzzParameters } from '../../helpers/fuzz.js';

const map = loadLegacyRuleMap();
const URLS = ['https://a.example.com/hooks', 'https://b.example.com/hooks', 'https://c.example.com/x'];
const COMPANIES = [COMPANY_A, COMPANY_B, OTHER_COMPANY];
const TYPES = map.types.filter((mapping) => mapping.unmapped === undefined).map((mapping) => mapping.type);

/** Events of every kind the mapped rule types lead to, for every company, and a few no rule leads to. */
const EVENTS: Envelope[] = COMPANIES.flatMap((company) => [
  ...['created', 'connected', 'disconnected', 'reconnected', 'deleted', 'failed'].map((name) =>
    connectionEvent(`connection.${name}`, company),
  ),
  ...(['read.completed', 'read.completed.initial'] as const).flatMap((type) => [
    readEvent(company, [['Complete', false]], type),
    readEvent(company, [['Complete', true]], type),
    readEvent(company, [['ProcessingError', false]], type),
    readEvent(
      company,
      [
        ['Complete', false],
        ['AuthError', true],
      ],
      type,
    ),
  ]),
  accountCategoriesEvent(company),
  expenseSyncEvent('successful', company),
  expenseSyncEvent('unsuccessful', company),
]).concat(
  writeEvent('invoices', 'successful', 'Success'),
  writeEvent('invoices', 'unsuccessful', 'TimedOut'),
  writeEvent('bills', 'unsuccessful', 'Failed'),
  rateLimitEvent('client.rateLimit.reached'),
  rateLimitEvent('client.rateLimit.reset'),
  connectionEvent('company.created', COMPANY_A),
);

function accepts(consumer: MigratedConsumer): (event: Envelope) => boolean {
  const types = compileEventTypeSelector(consumer.eventTypes);
  const filter = consumer.filter === undefined ? () => true : compilePayloadFilter(consumer.filter);
  return (event) => types(event.eventType) && filter(event);
}

const legacyRule = fc.record({
  type: fc.constantFrom(...TYPES),
  companyId: fc.option(fc.constantFrom(...COMPANIES), { nil: undefined }),
  webhook: fc.constantFrom(...URLS),
});

t.test('migrate-rules - merged consumers get exactly the events their rules would, each once', async (t) => {
  let merged = 0;
  // fast-check's message names the shrunk rules and the event, once.
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(legacyRule, { minLength: 1, maxLength: 12 }), (drawn) => {
        const rules = drawn.map(({ type, companyId, webhook }, i) => ({
          id: `r${i}`,
          type,
          companyId,
          notifiers: { webhook },
        }));
        const migration = migrateRules(rules, map);
        const migratedAlone = new Map(
          migration.consumers.flatMap((consumer) => consumer.rules).map((rule) => [rule.label, rule.index]),
        );
        // Each rule on its own: the legacy behaviour, one rule, one notification.
        const alone = rules
          .filter((rule) => migratedAlone.has(rule.id))
          .map((rule) => ({ url: rule.notifiers.webhook, accepts: accepts(migrateRules([rule], map).consumers[0]) }));
        if (new Set(migration.consumers.map((c) => c.url)).size !== migration.consumers.length)
          throw new Error('two consumers for one URL');
        merged += migration.consumers.filter((consumer) => consumer.rules.length > 1).length;
        for (const consumer of migration.consumers) {
          const got = accepts(consumer);
          for (const event of EVENTS) {
            const wanted = alone.some((rule) => rule.url === consumer.url && rule.accepts(event));
            if (got(event) !== wanted)
              throw new Error(
                `${consumer.id} ${wanted ? 'misses' : 'gets'} ${event.eventType} ${JSON.stringify(event.payload)}`,
              );
          }
        }
      }),
      fuzzParameters(t, 300),
    ),
  );
  t.ok(merged > 100, `${merged} consumers merged several rules`);
});
