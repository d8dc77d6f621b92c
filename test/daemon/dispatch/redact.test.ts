import t from 'tap';
import { redactHeaders, redactText } from '../../../daemon/dispatch/redact.js';

const consumer = {
  url: 'https://hooks:p%40ss-w0rd@example.com/in?x=1',
  headers: { 'x-api-key': 'key-1234567890', 'x-tenant': 'acme-tenant', authorization: 'Basic dXNlcjpwYXNz' },
  secrets: [{ secret: 'whsec_QUJDREVGR0hJSktMTU5PUA==', expiresAt: null }],
  configSecret: 'whsec_b2xkLXNlY3JldC12YWx1ZQ==',
};

t.test('redact - error texts lose the consumer credentials and anything shaped like one', async (t) => {
  const cases: [string, string][] = [
    ['key key-1234567890 refused', 'key [redacted] refused'],
    ['tenant acme-tenant is fine', 'tenant acme-tenant is fine'],
    ['decoded QUJDREVGR0hJSktMTU5PUA== leaked', 'decoded [redacted] leaked'],
    ['old whsec_b2xkLXNlY3JldC12YWx1ZQ== leaked', 'old [redacted] leaked'],
    ['auth Basic dXNlcjpwYXNz', 'auth [redacted]'],
    ['only dXNlcjpwYXNz', 'only [redacted]'],
    ['someone else: Bearer abc.def-ghi', 'someone else: Bearer [redacted]'],
    ['other whsec_ZZZZZZZZ', 'other [redacted]'],
    ['GET https://u:hunter2@h.example/x failed', 'GET https://u:[redacted]@h.example/x failed'],
    ['password p@ss-w0rd in text', 'password [redacted] in text'],
    ['HTTP 503', 'HTTP 503'],
  ];
  for (const [text, expected] of cases) t.equal(redactText(text, consumer), expected, text);
  t.same(redactHeaders({ 'X-Api-Key': 'k', accept: 'json', Cookie: 'c' }), {
    'X-Api-Key': '[redacted]',
    accept: 'json',
    Cookie: '[redacted]',
  });
});
