import t from 'tap';
import { CATALOG } from '../../helpers/catalog.js';
import { json } from '../../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../../helpers/in-process.js';

/** Only loopback is ever contacted here: these tests deliver nothing. */
const create = (hooksd: InProcess, body: Record<string, unknown>) => hooksd.api('/v1/consumers', json('POST', body));
const ids = async (hooksd: InProcess) =>
  (await hooksd.api('/v1/consumers')).body.data.map((consumer: { id: string }) => consumer.id);

t.test('api consumers - created without an id, a consumer gets a generated one, in order of creation', async (t) => {
  const hooksd = await startInProcess(t, { eventTypes: CATALOG });
  const first = await create(hooksd, { url: 'http://127.0.0.1:9/first' });
  t.equal(first.status, 201);
  t.match(first.body.id, /^con_[0-9a-z]{23}$/);
  t.match(first.body, { url: 'http://127.0.0.1:9/first', source: 'api', warnings: [] });
  t.match(first.body.secret, /^whsec_/, 'with its secret, as any created consumer');
  const second = await create(hooksd, { url: 'http://127.0.0.1:9/second' });
  t.not(second.body.id, first.body.id);
  t.same(await ids(hooksd), [first.body.id, second.body.id], 'listed by id, which is the order they were made in');
  t.match((await hooksd.api(`/v1/consumers/${first.body.id}`)).body, { id: first.body.id, url: first.body.url });
  const named = await create(hooksd, { id: 'chosen', url: 'http://127.0.0.1:9/named' });
  t.equal(named.body.id, 'chosen', 'an id given is kept');
});

t.test(
  'api consumers - a URL delivery.network refuses is refused at create and patch with 400 naming the setting',
  async (t) => {
    // No allowCidrs: the defaults of a real deployment, loopback and private ranges refused.
    const hooksd = await startInProcess(t, { eventTypes: CATALOG, delivery: { network: { allowCidrs: [] } } });
    const refused = [
      ['http://10.1.2.3/hook', /10\.1\.2\.3 is a private address \(10\.0\.0\.0\/8\)/],
      ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address/],
      ['http://[::1]:9/hook', /::1\] is a loopback address/],
      ['http://0x7f000001/hook', /127\.0\.0\.1 is a loopback address/],
      ['http://169.254.169.254/latest/meta-data', /link-local address/],
      [
        'http://localhost:9/hook',
        /localhost resolves only to addresses delivery\.network refuses: .*a loopback address/,
      ],
    ] as const;
    for (const [url, why] of refused) {
      const answer = await create(hooksd, { id: 'refused', url });
      t.equal(answer.status, 400, url);
      t.equal(answer.body.code, 'HOOKSD_URL_REFUSED', url);
      t.match(answer.body.message, why, url);
      t.match(
        answer.body.message,
        /delivery\.network\.allowPrivate.*delivery\.network\.allowCidrs/,
        'names the setting',
      );
      t.equal(answer.body.details.host, new URL(url).hostname);
    }
    const hostless = await create(hooksd, { id: 'refused', url: 'http://' });
    t.same(
      [hostless.status, hostless.body.code, hostless.body.details],
      [400, 'HOOKSD_INVALID_REQUEST', ['body.url: is not a URL an HTTP request can be sent to']],
      'a URL with no host, which the uri format lets through',
    );
    t.same(await ids(hooksd), [], 'none was created');

    // A public address is taken at once (nothing is sent to it: there is no event).
    const made = await create(hooksd, { id: 'public', url: 'https://93.184.215.14/hook' });
    t.same([made.status, made.body.warnings], [201, []]);
    const patched = await hooksd.api('/v1/consumers/public', json('PATCH', { url: 'http://192.168.1.10/hook' }));
    t.same([patched.status, patched.body.code], [400, 'HOOKSD_URL_REFUSED']);
    t.match(patched.body.message, /192\.168\.1\.10 is a private address/);
    t.equal((await hooksd.api('/v1/consumers/public')).body.url, 'https://93.184.215.14/hook', 'unchanged');
    const renamed = await hooksd.api('/v1/consumers/public', json('PATCH', { description: 'no URL change' }));
    t.same([renamed.status, renamed.body.warnings], [200, []], 'a change without a URL is not checked again');
  },
);

t.test(
  'api consumers - what delivery.network allows is taken: allowCidrs, allowPrivate, a name of allowed addresses',
  async (t) => {
    const cidrs = await startInProcess(t, {
      eventTypes: CATALOG,
      delivery: { network: { allowCidrs: ['127.0.0.0/8', '::1/128'] } },
    });
    const local = await create(cidrs, { id: 'local', url: 'http://localhost:9/hook' });
    t.same([local.status, local.body.warnings], [201, []], 'localhost resolves to 127.0.0.1, which allowCidrs allows');
    t.equal((await create(cidrs, { id: 'private', url: 'http://10.0.0.1/' })).status, 400, 'but not 10.0.0.1');

    const open = await startInProcess(t, { eventTypes: CATALOG, delivery: { network: { allowPrivate: true } } });
    t.equal((await create(open, { id: 'private', url: 'http://10.0.0.1/' })).status, 201, 'allowPrivate takes any');
  },
);

t.test(
  'api consumers - a name that does not resolve now is taken, with a warning in the answer and in the log',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: CATALOG, delivery: { network: { allowCidrs: [] } } });
    const made = await create(hooksd, { id: 'later', url: 'https://hooks.nothing.invalid/secret-path-token' });
    t.equal(made.status, 201);
    t.equal(made.body.warnings.length, 1);
    t.match(
      made.body.warnings[0],
      /^url: hooks\.nothing\.invalid does not resolve now \(ENOTFOUND\): delivery resolves/,
    );
    const logged = hooksd.logs().find((line) => line.msg === 'consumer saved through the API, with warnings');
    t.match(logged, { level: 40, consumerId: 'later', warnings: made.body.warnings });
    t.notMatch(hooksd.output(), /secret-path-token/, 'the log names the host, never the rest of the URL');

    const patched = await hooksd.api('/v1/consumers/later', json('PATCH', { url: 'https://other.nothing.invalid/x' }));
    t.same([patched.status, patched.body.url], [200, 'https://other.nothing.invalid/x']);
    t.match(patched.body.warnings, [/other\.nothing\.invalid does not resolve now/], 'a patch warns the same way');
  },
);

t.test(
  'api consumers - event types outside the catalog are refused unless ingest.unknownTypes is deliver',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: CATALOG });
    const unknown = await create(hooksd, {
      id: 'x',
      url: 'http://127.0.0.1:9/',
      eventTypes: ['company.created', 'nope'],
    });
    t.same([unknown.status, unknown.body.code], [400, 'HOOKSD_INVALID_REQUEST']);
    t.match(unknown.body.message, /"nope" names no type of the event catalog.*ingest\.unknownTypes: reject/);
    t.match(unknown.body.message, /the catalog: company\.created, company\.deleted, read\.completed/);
    t.same(unknown.body.details, ['body.eventTypes: "nope" is not in the event catalog']);
    const family = await create(hooksd, { id: 'x', url: 'http://127.0.0.1:9/', eventTypes: ['invoice.*'] });
    t.match(family.body, { code: 'HOOKSD_INVALID_REQUEST', message: /"invoice\.\*" names no type/ });
    t.same(await ids(hooksd), [], 'nothing was created');

    const known = await create(hooksd, {
      id: 'known',
      url: 'http://127.0.0.1:9/',
      eventTypes: ['company.*', 'read.completed'],
    });
    t.equal(known.status, 201, 'a family with types in the catalog, and a type of it');
    t.equal((await create(hooksd, { id: 'all', url: 'http://127.0.0.1:9/', eventTypes: ['*'] })).status, 201);
    const patched = await hooksd.api('/v1/consumers/known', json('PATCH', { eventTypes: ['company.renamed'] }));
    t.same([patched.status, patched.body.code], [400, 'HOOKSD_INVALID_REQUEST'], 'and at patch');
    t.same((await hooksd.api('/v1/consumers/known')).body.eventTypes, ['company.*', 'read.completed'], 'unchanged');

    const open = await startInProcess(t, { eventTypes: CATALOG, ingest: { unknownTypes: 'deliver' } });
    const taken = await create(open, { id: 'x', url: 'http://127.0.0.1:9/', eventTypes: ['nope', 'invoice.*'] });
    t.equal(taken.status, 201, 'with unknownTypes: deliver, any type can arrive, so any is taken');
  },
);
