import t from 'tap';
import fc from 'fast-check';
import { controlKey, decodeId, encodeId, parseControlKey } from '../../../daemon/store/control-keys.js';

/** What the NATS key-value store accepts as a key (nats.js validateKey). */
const validKey = (key: string) => /^[-/=.\w]+$/.test(key) && !key.startsWith('.') && !key.endsWith('.');

t.test('control keys - any id makes one valid key of its kind, read back as the same id', async (t) => {
  t.equal(controlKey('consumers', 'orders.eu'), 'consumers.orders=2Eeu');
  t.equal(controlKey('yaml', 'host-1'), 'yaml.host-1');
  t.equal(encodeId('a. b/é'), 'a=2E=20b=2F=C3=A9');
  fc.assert(
    fc.property(
      fc.constantFrom('consumers', 'states', 'secrets', 'tasks', 'yaml' as const),
      fc.string({ minLength: 1, unit: 'grapheme' }),
      (kind, id) => {
        const key = controlKey(kind, id);
        return (
          validKey(key) &&
          decodeId(encodeId(id)) === id &&
          parseControlKey(key)?.id === id &&
          parseControlKey(key)?.kind === kind
        );
      },
    ),
  );
  t.equal(parseControlKey('somebody.else'), undefined, 'a key of another kind is none of hooksd’s');
  t.equal(parseControlKey('consumers'), undefined);
  t.equal(parseControlKey('consumers.a.b'), undefined, 'an id is one token');
});
