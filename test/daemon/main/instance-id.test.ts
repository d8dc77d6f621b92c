import path from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig, validateConfigFile } from '../../../config/loader.js';
import { HooksdError } from '../../../daemon/common/errors.js';
import { instanceIdOf } from '../../../daemon/main/instance-id.js';

function configFile(t: Test, text: string): string {
  return path.join(t.testdir({ 'hooks.config.yaml': text }), 'hooks.config.yaml');
}

t.test('instance id - instance.id when set, else the host name, else its first label', async (t) => {
  const set = loadConfig(configFile(t, 'instance:\n  id: hooksd-2\n'), {});
  t.equal(instanceIdOf(set, 'some-host'), 'hooksd-2');
  const unset = loadConfig(configFile(t, '{}\n'), {});
  t.equal(instanceIdOf(unset, 'web-7f9c4'), 'web-7f9c4');
  t.equal(instanceIdOf(unset, 'ip-10-0-3-7.eu-west-1.compute.internal'), 'ip-10-0-3-7.eu-west-1.compute.internal');
  const long = `${'a'.repeat(60)}.example.com`;
  t.equal(instanceIdOf(unset, long), 'a'.repeat(60), 'a name too long for an id: its first label');
  const error = t.throws(() => instanceIdOf(unset, `${'b'.repeat(70)}.example`)) as HooksdError;
  t.equal(error.code, 'HOOKSD_CONFIG_INVALID');
  t.match(error.message, /set instance\.id/);
});

t.test('instance id - an id with other characters or too long is refused at its line', async (t) => {
  const file = configFile(t, 'instance:\n  id: "node a/1"\nnats:\n  replicas: 7\n');
  const { problems } = validateConfigFile(file, {});
  t.equal(problems.length, 2, problems.join('\n'));
  t.match(problems[0], `${file}:2:7 instance.id:`);
  t.match(problems[1], `${file}:4:13 nats.replicas:`);
  t.equal(validateConfigFile(configFile(t, `instance:\n  id: ${'x'.repeat(64)}\n`), {}).problems.length, 1);
  t.same(validateConfigFile(configFile(t, `instance:\n  id: ${'x'.repeat(63)}\n`), {}).problems, []);
});
