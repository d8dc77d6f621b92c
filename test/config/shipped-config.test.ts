import { fileURLToPath } from 'node:url';
import t from 'tap';
import { compileEventSchemas } from '../../config/event-schemas.js';
import { loadConfig, validateConfigFile } from '../../config/loader.js';

const shippedConfig = fileURLToPath(new URL('../../hooks.config.yaml', import.meta.url));

t.test('shipped config - validates with no environment variables set', async (t) => {
  t.same(validateConfigFile(shippedConfig, {}).problems, []);
  const config = loadConfig(shippedConfig, {});
  t.equal(config.server.listen, '127.0.0.1:8080');
  t.equal(config.nats.servers, undefined, 'uses the embedded nats-server');
  t.same(config.delivery.network.allowCidrs, ['127.0.0.1/32']);
  t.same(
    config.consumers.map(({ id, url, eventTypes }) => ({ id, url, eventTypes })),
    [{ id: 'demo', url: 'http://127.0.0.1:9000/webhooks', eventTypes: ['connection.*', 'company.created'] }],
  );
  t.match(config.consumers[0].secret, /^whsec_/);
});

t.test('shipped config - the demo secret can be replaced through DEMO_WEBHOOK_SECRET', async (t) => {
  const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  t.equal(loadConfig(shippedConfig, { DEMO_WEBHOOK_SECRET: secret }).consumers[0].secret, secret);
});

t.test('shipped config - has the five event types, each example passing its own schema', async (t) => {
  const { eventTypes } = loadConfig(shippedConfig, {});
  t.same(
    eventTypes.map((eventType) => eventType.name),
    ['company.created', 'connection.created', 'connection.failed', 'read.completed', 'invoices.write.successful'],
  );
  const validators = compileEventSchemas(eventTypes);
  for (const eventType of eventTypes) {
    const validate = validators.get(eventType.name);
    t.ok(validate, `${eventType.name} has a schema`);
    t.ok(validate?.(eventType.example), `${eventType.name} example matches its schema`);
    t.notOk(validate?.({}), `${eventType.name} refuses an empty payload`);
  }
});
