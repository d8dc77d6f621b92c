import t from 'tap';
import { parse } from 'yaml';
import { loadLegacyRuleMap } from '../../../daemon/main/legacy-rules.js';
import { migrateRules } from '../../../daemon/main/migrate-rules.js';
import { renderMigration } from '../../../daemon/main/migrate-rules-yaml.js';
import {
  COMPANY_A,
  COMPANY_B,
  connectionEvent,
  OTHER_COMPANY,
  readEvent,
  writeEvent,
  type Envelope,
} from '../../helpers/codat-events.js';
import { eventIdOf, settledAfter } from '../../helpers/gateway.js';
import { natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test('migrate-rules - the migrated consumers, run by hooksd, receive what their legacy rules covered', async (t) => {
  const reads = await startReceiver(t);
  const writes = await startReceiver(t);
  const rules = [
    { id: 'connections', type: 'DataConnectionStatusChanged', notifiers: { webhook: `${reads.url}/codat` } },
    {
      id: 'changes-of-a',
      type: 'Dataset data changed',
      companyId: COMPANY_A,
      notifiers: { webhook: `${reads.url}/codat` },
    },
    { id: 'timeouts', type: 'Push Operation Timed Out', notifiers: { webhook: `${writes.url}/writes` } },
    {
      id: 'reads-of-b',
      type: 'Data sync completed',
      companyId: COMPANY_B,
      notifiers: { emails: ['ops@example.com'], webhook: `${writes.url}/writes` },
    },
  ];
  const migration = migrateRules(rules, loadLegacyRuleMap());
  const { consumers } = parse(renderMigration(migration, 'rules.json'));
  t.equal(consumers.length, 2);
  // The catalog the output's header asks for, with the data type this test writes.
  const eventTypes = [...migration.catalog, 'invoices.write.unsuccessful'].map((name) => ({ name }));
  const hooksd = await startInProcess(t, { consumers, eventTypes });
  const nc = await natsClient(t, hooksd.nats!.url);
  const js = nc.jetstream();
  const publish = async (event: Envelope) => {
    await js.publish(`events.${event.eventType}`, JSON.stringify(event));
    return event.id;
  };

  const toReads = [
    await publish(connectionEvent('connection.connected', COMPANY_B)),
    await publish(readEvent(COMPANY_A, [['Complete', true]])),
  ];
  const toWrites = [
    await publish(readEvent(COMPANY_B, [['Complete', false]])),
    await publish(writeEvent('invoices', 'unsuccessful', 'TimedOut')),
  ];
  const toNobody = [
    await publish(readEvent(COMPANY_A, [['Complete', false]])),
    await publish(readEvent(OTHER_COMPANY, [['Complete', true]])),
    await publish(writeEvent('invoices', 'unsuccessful', 'Failed')),
  ];
  const sentinel = await publish(connectionEvent('connection.deleted', COMPANY_A));
  await settledAfter(hooksd.api, reads, sentinel, 60_000);

  const ids = (receiver: typeof reads) => receiver.received.map(eventIdOf).sort();
  t.same(ids(reads), [...toReads, sentinel].sort(), 'the reads endpoint: connections, and changes of company A');
  t.same(ids(writes), [...toWrites].sort(), "the writes endpoint: timeouts, and company B's reads");
  for (const id of toNobody) t.notOk([...ids(reads), ...ids(writes)].includes(id), `event ${id} went nowhere`);
  t.ok(
    [...reads.received, ...writes.received].every((request) =>
      /^v1,/.test(String(request.headers['webhook-signature'])),
    ),
    'signed',
  );
});
