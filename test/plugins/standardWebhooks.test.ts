import t from 'tap';
import { readFileSync } from 'node:fs';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import {
  decodeSecret,
  generateSecret,
  signatureHeader,
  standardWebhooksPlugin,
} from '../../plugins/standardWebhooks.js';

const context = { configDir: '.' };
const webhookHeaders = (keys: Buffer[], messageId: string, timestamp: number, body: string) =>
  standardWebhooksPlugin.create({ headerPrefix: 'webhook' }, context).headers({ messageId, timestamp, body, keys });

const vectors = JSON.parse(readFileSync(new URL('../fixtures/standard-webhooks.json', import.meta.url), 'utf8'));

t.test('standardWebhooks - signs every published valid vector to its expected signature', async (t) => {
  t.equal(vectors.valid.length, 3);
  for (const v of vectors.valid) {
    t.equal(signatureHeader([decodeSecret(v.secret)], v.id, v.timestamp, v.payload), v.signature, v.id);
  }
});

t.test('standardWebhooks - sends one signature per active secret, each verifiable on its own', async (t) => {
  const oldSecret = generateSecret();
  const newSecret = generateSecret();
  const body = '{"id":"e1","eventType":"company.created","payload":{}}';
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([decodeSecret(oldSecret), decodeSecret(newSecret)], 'msg_1', now, body);
  t.equal(headers['webhook-signature'].split(' ').length, 2);
  for (const secret of [oldSecret, newSecret]) {
    t.same(new StandardWebhook(secret).verify(body, headers), JSON.parse(body), 'standardwebhooks verifies');
    const svixHeaders = {
      'svix-id': headers['webhook-id'],
      'svix-timestamp': headers['webhook-timestamp'],
      'svix-signature': headers['webhook-signature'],
    };
    t.same(new SvixWebhook(secret).verify(body, svixHeaders), JSON.parse(body), 'svix verifies');
  }
  t.throws(() => new StandardWebhook(generateSecret()).verify(body, headers), 'a third secret does not verify');
});

t.test('standardWebhooks - generated secrets carry 24 random bytes', async (t) => {
  const a = generateSecret();
  t.match(a, /^whsec_[A-Za-z0-9+/]{32}$/);
  t.equal(decodeSecret(a).length, 24);
  t.not(a, generateSecret());
});

t.test('standardWebhooks - headerPrefix svix sends svix-* headers that the svix library verifies', async (t) => {
  const secret = generateSecret();
  const body = '{"id":"e2","eventType":"read.completed","payload":{}}';
  const headers = standardWebhooksPlugin
    .create({ headerPrefix: 'svix' }, context)
    .headers({ messageId: 'msg_2', timestamp: Math.floor(Date.now() / 1000), body, keys: [decodeSecret(secret)] });
  t.same(Object.keys(headers).sort(), ['svix-id', 'svix-signature', 'svix-timestamp']);
  t.same(new SvixWebhook(secret).verify(body, headers), JSON.parse(body));
});
