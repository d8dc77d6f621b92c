import t from 'tap';
import type { LookupAddress } from 'node:dns';
import { NetworkGuard } from '../../../daemon/dispatch/network-guard.js';
import { checkConsumerUrl } from '../../../daemon/dispatch/url-check.js';

// Made-up names, so no test depends on (or leaks to) real DNS: nothing is connected to here.
const HOSTS: Record<string, LookupAddress[]> = {
  'internal.test': [
    { address: '10.0.0.7', family: 4 },
    { address: 'fd00::7', family: 6 },
  ],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
  'public.test': [{ address: '93.184.216.34', family: 4 }],
  'empty.test': [],
};

const guard = (allowCidrs: string[] = []) =>
  new NetworkGuard({
    allowPrivate: false,
    allowCidrs,
    resolve: async (hostname) => {
      if (hostname === 'hangs.test') return new Promise<never>(() => undefined);
      const found = HOSTS[hostname];
      if (found === undefined)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return found;
    },
  });

t.test('url check - refused: a literal in a refused range, a name whose every address is refused', async (t) => {
  t.match(await checkConsumerUrl(guard(), 'http://10.0.0.1/x'), { refused: /^10\.0\.0\.1 is a private address/ });
  const internal = await checkConsumerUrl(guard(), 'https://internal.test/hook');
  t.match(internal, {
    refused: /^internal\.test resolves only to addresses delivery\.network refuses: 10\.0\.0\.7 is .*; fd00::7 is /,
  });
  t.equal(
    await checkConsumerUrl(guard(['10.0.0.0/8', 'fd00::/8']), 'https://internal.test/hook'),
    null,
    'unless allowed',
  );
});

t.test('url check - taken: a public address or name; with a warning: mixed, no address, no answer', async (t) => {
  t.equal(await checkConsumerUrl(guard(), 'https://93.184.216.34/'), null);
  t.equal(await checkConsumerUrl(guard(), 'https://public.test/'), null);
  t.match(await checkConsumerUrl(guard(), 'https://mixed.test/'), {
    warning: /^mixed\.test also resolves to addresses delivery\.network refuses.*127\.0\.0\.1 is a loopback address/,
  });
  t.match(await checkConsumerUrl(guard(), 'https://nothing.test/'), {
    warning: 'nothing.test does not resolve now (ENOTFOUND): delivery resolves it again at every attempt',
  });
  t.match(await checkConsumerUrl(guard(), 'https://empty.test/'), { warning: /^empty\.test has no address now/ });
  const started = Date.now();
  t.match(await checkConsumerUrl(guard(), 'https://hangs.test/'), {
    warning: /^hangs\.test did not resolve within 5 s/,
  });
  t.ok(Date.now() - started < 20_000, 'a resolver that never answers is not waited for');
});
