import t from 'tap';
import { connect } from 'nats';
import { groupKey, seal, unseal } from '../../../daemon/api/group-seal.js';
import { apiSubject } from '../../../daemon/common/subjects.js';
import { HooksdError } from '../../../daemon/common/errors.js';
import { eventually, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startNats } from '../../helpers/nats.js';
import { startReceiver } from '../../helpers/receiver.js';

/**
 * The instances of a group seal their questions to each other with a key made from the API
 * tokens: a NATS client without the tokens cannot make an instance list, resend or cancel.
 */
const TOKENS = ['a-token-of-sixteen-or-more', 'another-token-just-as-long'];
const question = { route: 'get /v1/messages', params: {}, query: { limit: 2 } };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return error instanceof HooksdError ? error.code : String(error);
  }
};

t.test('group seal - a question sealed with the tokens opens; forged, stale or bare ones do not', async (t) => {
  const key = groupKey(TOKENS)!;
  t.same(groupKey([...TOKENS].reverse()), key, 'the same key whatever the order of the tokens');
  t.not(groupKey(['some-other-token-of-16'])!.toString('hex'), key.toString('hex'), 'another token, another key');
  t.equal(groupKey([]), undefined, 'no tokens, no key');
  t.same(unseal(seal(question, key), key), question, 'sealed and opened with the same key');

  const other = groupKey(['some-other-token-of-16']);
  t.equal(
    codeOf(() => unseal(seal(question, other), key)),
    'HOOKSD_UNAUTHORIZED',
    'sealed with other tokens',
  );
  t.equal(
    codeOf(() => unseal(seal(question, undefined), key)),
    'HOOKSD_UNAUTHORIZED',
    'not sealed at all',
  );
  const sealed = JSON.parse(seal(question, key));
  const changed = JSON.stringify({ ...sealed, payload: sealed.payload.replace('"limit":2', '"limit":3') });
  t.equal(
    codeOf(() => unseal(changed, key)),
    'HOOKSD_UNAUTHORIZED',
    'changed on the way',
  );
  const old = seal(question, key, Date.now() - 120_000);
  t.equal(
    codeOf(() => unseal(old, key)),
    'HOOKSD_UNAUTHORIZED',
    'two minutes old',
  );
  t.equal(
    codeOf(() => unseal('not json', key)),
    'HOOKSD_INVALID_REQUEST',
  );
  t.equal(
    codeOf(() => unseal('{"payload":"{"}', undefined)),
    'HOOKSD_INVALID_REQUEST',
  );
  t.same(unseal(seal(question, undefined), undefined), question, 'with no tokens configured, no MAC is asked for');
  t.notMatch(
    (() => {
      try {
        unseal(seal(question, other), key);
      } catch (error) {
        return (error as Error).message;
      }
    })(),
    new RegExp(TOKENS.join('|')),
    'the refusal names no token',
  );
});

t.test('group seal - hooksd with API tokens answers only the questions sealed with them', async (t) => {
  const hooksd = await startInProcess(t, {
    instance: { id: 'sealed-1' },
    server: { auth: { tokens: TOKENS.map((token, i) => ({ name: `t${i}`, token, scopes: ['read'] })) } },
  });
  const nc = await connect({ servers: hooksd.nats!.url });
  t.teardown(() => nc.close());
  const ask = async (text: string) => {
    const reply = await nc.request(apiSubject('HOOKS_EVENTS', 'sealed-1'), text, { timeout: 30_000 });
    return JSON.parse(new TextDecoder().decode(reply.data));
  };
  const answered = await ask(seal(question, groupKey(TOKENS)));
  t.same(answered.ok.data, [], 'sealed with its tokens: a page of its store');
  const bare = await ask(seal(question, undefined));
  t.equal(bare.error.code, 'HOOKSD_UNAUTHORIZED', 'a question without the seal is refused');
  t.match(bare.error.message, /server\.auth\.tokens/, 'saying what every instance needs');
  t.ok(
    hooksd.logs().some((line) => line.msg === 'refused a question from another instance'),
    'and the refusal is logged',
  );
});

t.test("group seal - two instances with the same tokens list each other's messages", async (t) => {
  const nats = await startNats(t);
  const receiver = await startReceiver(t);
  const auth = { authorization: `Bearer ${TOKENS[0]}` };
  const start = (id: string) =>
    startInProcess(t, {
      instance: { id },
      nats: { servers: [nats.url] },
      server: { auth: { tokens: [{ name: 'ops', token: TOKENS[0], scopes: ['read', 'publish'] }] } },
      eventTypes: [{ name: 'order.placed' }],
      consumers: [{ id: 'shop', url: receiver.url }],
    });
  const [a, b] = [await start('sealed-a'), await start('sealed-b')];
  await eventually(
    async () => ((await a.api('/readyz', { headers: auth })).body.instances?.live.length === 2 ? true : undefined),
    30_000,
    'the two to see each other',
  );
  const js = (await natsClient(t, nats.url)).jetstream();
  // Enough events that both instances take some.
  for (let i = 0; i < 400; i++) await js.publish('events.order.placed', JSON.stringify({ id: `o${i}`, payload: {} }));
  await receiver.waitForDistinct(400, 60_000);
  let cursor: string | null = null;
  let listed = 0;
  do {
    const query: string = `/v1/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const { status, body } = await a.api(query, { headers: auth });
    t.equal(status, 200, `${query} answered`);
    t.equal(body.missingInstances, undefined, 'every instance answered');
    listed += body.data.length;
    cursor = body.nextCursor;
  } while (cursor !== null);
  t.equal(listed, 400, 'every message of the group listed through one instance');
  // (In one process the id tag is the last instance's: each instance's own store says what it holds.)
  const held = [a, b].map((hooksd) => hooksd.app.store.countStatus('success'));
  t.ok(
    held.every((count) => count > 0),
    `each instance held some of the messages listed (${held.join(' and ')})`,
  );
  t.notOk(
    [...a.logs(), ...b.logs()].some((line) => line.msg === 'refused a question from another instance'),
    'no question refused',
  );
});
