import t, { type Test } from 'tap';
import got from 'got';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { BLOCKED_CODE, NetworkGuard, type NetworkGuardOptions } from '../../../daemon/dispatch/network-guard.js';

const ADVICE = 'set delivery.network.allowPrivate: true or add it to delivery.network.allowCidrs to allow it';

// Made-up names, so no test depends on (or leaks to) real DNS. Only loopback is ever connected to.
const HOSTS: Record<string, LookupAddress[]> = {
  'internal.test': [{ address: '127.0.0.1', family: 4 }],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
  'public.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:4700::1111', family: 6 },
  ],
};

const testResolver = async (hostname: string): Promise<LookupAddress[]> => {
  const found = HOSTS[hostname];
  if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

const guardWith = (network: Partial<NetworkGuardOptions> = {}) =>
  new NetworkGuard({ allowPrivate: false, allowCidrs: [], resolve: testResolver, ...network });

interface Looked {
  error: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number;
}

const lookup = (guard: NetworkGuard, hostname: string, options: LookupOptions = {}) =>
  new Promise<Looked>((resolve) =>
    guard.lookup(hostname, options, (error, address, family) => resolve({ error, address, family })),
  );

/** A server on 127.0.0.1 that counts the connections it accepts. */
async function loopbackServer(t: Test) {
  const server = createServer((_request, response) => response.end('reached'));
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

t.test('network guard - refuses loopback, private and metadata addresses by default', async (t) => {
  const guard = guardWith();
  const refused: [address: string, range: string][] = [
    ['0.0.0.0', '0.0.0.0/8'],
    ['0.255.255.255', '0.0.0.0/8'],
    ['10.1.2.3', '10.0.0.0/8'],
    ['100.64.0.1', '100.64.0.0/10'],
    ['100.127.255.255', '100.64.0.0/10'],
    ['127.0.0.1', '127.0.0.0/8'],
    ['127.255.255.254', '127.0.0.0/8'],
    ['169.254.169.254', '169.254.0.0/16'],
    ['172.16.0.1', '172.16.0.0/12'],
    ['172.31.255.255', '172.16.0.0/12'],
    ['192.0.0.8', '192.0.0.0/24'],
    ['192.0.2.1', '192.0.2.0/24'],
    ['198.51.100.7', '198.51.100.0/24'],
    ['203.0.113.9', '203.0.113.0/24'],
    ['192.88.99.1', '192.88.99.0/24'],
    ['192.168.1.1', '192.168.0.0/16'],
    ['198.18.0.1', '198.18.0.0/15'],
    ['198.19.255.255', '198.18.0.0/15'],
    ['224.0.0.1', '224.0.0.0/4'],
    ['239.255.255.250', '224.0.0.0/4'],
    ['240.0.0.1', '240.0.0.0/4'],
    ['255.255.255.255', '255.255.255.255/32'],
    ['::', '::/128'],
    ['::1', '::1/128'],
    ['[::1]', '::1/128'],
    ['fe80::1', 'fe80::/10'],
    ['fe80::1%eth0', 'fe80::/10'],
    ['febf:ffff::1', 'fe80::/10'],
    ['fc00::1', 'fc00::/7'],
    ['fd12:3456:789a::1', 'fc00::/7'],
    ['ff02::1', 'ff00::/8'],
    ['2001:db8::1', '2001:db8::/32'],
    ['100::1', '100::/64'],
    ['2001::1', '2001::/23'],
    ['2001:1ff:ffff::1', '2001::/23'],
  ];
  for (const [address, range] of refused) {
    const reason = guard.check(address);
    t.match(reason, `${address} is `, `${address} is refused`);
    t.match(reason, `(${range}); ${ADVICE}`, `${address} names ${range} and the settings`);
  }
  t.equal(guard.check('127.0.0.1'), `127.0.0.1 is a loopback address (127.0.0.0/8); ${ADVICE}`);
  t.equal(
    guard.check('169.254.169.254'),
    `169.254.169.254 is a link-local address (cloud metadata services live here) (169.254.0.0/16); ${ADVICE}`,
  );
  t.equal(guard.check('not-an-ip'), 'not-an-ip is not an IP address');
});

t.test(
  'network guard - checks IPv4-mapped, IPv4-compatible, NAT64 and 6to4 addresses as the IPv4 address they carry',
  async (t) => {
    const guard = guardWith();
    t.equal(
      guard.check('::ffff:127.0.0.1'),
      `::ffff:127.0.0.1 is an IPv4-mapped address for 127.0.0.1, a loopback address (127.0.0.0/8); ${ADVICE}`,
    );
    t.match(guard.check('::ffff:7f00:1'), 'an IPv4-mapped address for 127.0.0.1, a loopback address');
    t.match(guard.check('::ffff:a9fe:a9fe'), 'for 169.254.169.254, a link-local address');
    t.match(guard.check('::127.0.0.1'), 'an IPv4-compatible address for 127.0.0.1, a loopback address');
    t.match(guard.check('::2'), 'an IPv4-compatible address for 0.0.0.2');
    t.match(guard.check('64:ff9b::10.0.0.1'), 'a NAT64 address for 10.0.0.1, a private address (10.0.0.0/8)');
    t.match(guard.check('64:ff9b::7f00:1'), 'a NAT64 address for 127.0.0.1');
    t.match(guard.check('2002:a9fe:a9fe::1'), 'a 6to4 address for 169.254.169.254');
    t.match(guard.check('2002:c0a8:101::'), 'a 6to4 address for 192.168.1.1');
    t.match(guard.check('64:ff9b:1::a00:1'), 'a reserved address (::/8)', 'local-use NAT64 is refused outright');

    t.equal(guard.check('::ffff:8.8.8.8'), null, 'a mapped public address is allowed');
    t.equal(guard.check('64:ff9b::808:808'), null, 'NAT64 of a public address is allowed');
    t.equal(guard.check('2002:808:808::1'), null, '6to4 of a public address is allowed');
  },
);

t.test('network guard - allows public addresses', async (t) => {
  const guard = guardWith();
  const allowed = [
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.1',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700::1111',
    '2001:200::1',
    '2a00:1450:4001:80b::200e',
  ];
  for (const address of allowed) t.equal(guard.check(address), null, `${address} is allowed`);
});

t.test('network guard - checkUrl refuses IP-literal URLs in any notation and leaves hostnames to lookup', async (t) => {
  const guard = guardWith();
  const refused: [url: string, address: string][] = [
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[::1]/', '[::1]'],
    ['http://[::1]:8080/hook', '[::1]'],
    ['http://10.1.2.3/', '10.1.2.3'],
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.0.0.1/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['https://192.168.0.10:8443/x', '192.168.0.10'],
  ];
  for (const [url, address] of refused)
    t.match(guard.checkUrl(url), `${address} is `, `${url} is refused as ${address}`);
  t.match(guard.checkUrl('http://[::ffff:127.0.0.1]/'), `for 127.0.0.1, a loopback address (127.0.0.0/8); ${ADVICE}`);

  t.equal(guard.checkUrl('http://93.184.216.34/'), null);
  t.equal(guard.checkUrl('https://[2606:4700::1111]/hook'), null);
  t.equal(guard.checkUrl('http://localhost/'), null, 'hostnames are checked when they resolve');
  t.equal(guard.checkUrl('https://internal.test:8443/x'), null);
  t.throws(() => guard.checkUrl('not a url'), TypeError);
});

t.test('network guard - allowCidrs allows exactly its ranges', async (t) => {
  const guard = guardWith({ allowCidrs: ['127.0.0.1/32', '::1/128', 'fd00::/8', '10.20.0.0/16', '192.168.5.5'] });
  t.equal(guard.check('127.0.0.1'), null);
  t.match(guard.check('127.0.0.2'), '127.0.0.2 is a loopback address');
  t.equal(guard.check('::ffff:127.0.0.1'), null, 'an IPv4 entry covers the IPv4-mapped form');
  t.equal(guard.checkUrl('http://[::ffff:7f00:1]/'), null);
  t.match(guard.check('::ffff:127.0.0.2'), 'for 127.0.0.2');
  t.equal(guard.check('::1'), null);
  t.match(guard.check('::2'), 'IPv4-compatible');
  t.equal(guard.check('fd12::1'), null);
  t.match(guard.check('fc00::1'), 'fc00::/7');
  t.equal(guard.check('10.20.255.255'), null);
  t.match(guard.check('10.21.0.0'), '10.0.0.0/8');
  t.equal(guard.check('192.168.5.5'), null, 'a plain address means /32');
  t.match(guard.check('192.168.5.6'), '192.168.0.0/16');
  t.match(guard.check('169.254.169.254'), '169.254.0.0/16');
});

t.test('network guard - allowPrivate allows every address', async (t) => {
  const guard = guardWith({ allowPrivate: true });
  for (const address of [
    '127.0.0.1',
    '10.0.0.1',
    '169.254.169.254',
    '::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '255.255.255.255',
    '93.184.216.34',
  ]) {
    t.equal(guard.check(address), null, `${address} is allowed`);
  }
  t.equal(guard.checkUrl('http://2130706433/'), null);
  t.same((await lookup(guard, 'mixed.test', { all: true })).address, HOSTS['mixed.test']);
});

t.test('network guard - refuses a malformed allowCidrs entry at construction, naming it', async (t) => {
  const malformed = [
    '10.0.0.0/33',
    '::/129',
    'not-an-ip',
    '10.0.0/8',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/ 8',
    '',
    'fe80::1%eth0/64',
    '300.0.0.0/8',
  ];
  for (const cidr of malformed) {
    t.throws(
      () => new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8', cidr] }),
      { message: `delivery.network.allowCidrs[1]: "${cidr}" is not a CIDR` },
      `"${cidr}" is refused`,
    );
  }
  t.doesNotThrow(
    () =>
      new NetworkGuard({
        allowPrivate: false,
        allowCidrs: ['0.0.0.0/0', '::/0', '10.0.0.0/8', '2001:db8::/32', '::1'],
      }),
  );
});

t.test(
  'network guard - lookup refuses a hostname that resolves to a blocked address, with code HOOKSD_ADDRESS_BLOCKED',
  async (t) => {
    const guard = guardWith();
    const blocked = await lookup(guard, 'internal.test');
    t.equal(blocked.error?.code, BLOCKED_CODE);
    t.equal(BLOCKED_CODE, 'HOOKSD_ADDRESS_BLOCKED');
    t.equal(blocked.error?.message, `internal.test resolved to 127.0.0.1, a loopback address (127.0.0.0/8); ${ADVICE}`);

    const mixed = await lookup(guard, 'mixed.test', { all: true });
    t.equal(mixed.error?.code, BLOCKED_CODE, 'one blocked address among public ones refuses the lookup');
    t.match(mixed.error?.message, 'mixed.test resolved to 127.0.0.1, a loopback address');

    const mapped = await lookup(guard, 'mapped.test');
    t.match(
      mapped.error?.message,
      'mapped.test resolved to ::ffff:127.0.0.1, an IPv4-mapped address for 127.0.0.1, a loopback address',
    );

    t.equal((await lookup(guard, 'nowhere.test')).error?.code, 'ENOTFOUND', 'resolver errors pass through');
  },
);

t.test('network guard - lookup answers in the shape the caller asked for, with the addresses it checked', async (t) => {
  const guard = guardWith();
  t.same(await lookup(guard, 'public.test'), { error: null, address: '93.184.216.34', family: 4 });
  t.same(await lookup(guard, 'public.test', { all: true }), {
    error: null,
    address: HOSTS['public.test'],
    family: undefined,
  });
  t.same(await lookup(guard, 'public.test', { family: 6 }), { error: null, address: '2606:4700::1111', family: 6 });
  t.same((await lookup(guard, 'public.test', { family: 'IPv6', all: true })).address, [
    { address: '2606:4700::1111', family: 6 },
  ]);
  t.equal(
    (await lookup(guard, 'internal.test', { family: 6 })).error?.code,
    'ENOTFOUND',
    'no address of the asked family',
  );
});

t.test('network guard - lookup uses the system resolver by default', async (t) => {
  const guard = new NetworkGuard({ allowPrivate: false, allowCidrs: [] });
  const { error } = await lookup(guard, 'localhost', { all: true });
  t.equal(error?.code, BLOCKED_CODE);
  t.match(error?.message, /^localhost resolved to (127\.0\.0\.1|::1), a loopback address/);
});

t.test('network guard - got with guard.lookup never connects to a refused address', async (t) => {
  const server = await loopbackServer(t);
  const guard = guardWith();
  await t.rejects(
    got(`http://internal.test:${server.port}/`, {
      dnsLookup: guard.lookup,
      retry: { limit: 0 },
      timeout: { request: 5000 },
    }),
    {
      code: BLOCKED_CODE,
      message: /internal\.test resolved to 127\.0\.0\.1, a loopback address/,
    },
  );
  t.equal(server.connections(), 0, 'the refusal came before any connection');
});

t.test('network guard - got with guard.lookup connects to exactly the address it allowed', async (t) => {
  const server = await loopbackServer(t);
  const guard = guardWith({ allowCidrs: ['127.0.0.0/8'] });
  const response = await got(`http://internal.test:${server.port}/`, {
    dnsLookup: guard.lookup,
    retry: { limit: 0 },
    timeout: { request: 5000 },
  });
  t.equal(response.body, 'reached');
  t.equal(response.ip, '127.0.0.1');
  t.equal(server.connections(), 1);
});
