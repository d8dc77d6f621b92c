// The container's health check: it finds the API where the config says it listens, and
// passes only while that API answers.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../../config/loader.js';
import { checkHealth, healthzUrl } from '../../../daemon/main/healthcheck.js';
import { REPO, tempDir } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { freePort } from '../../helpers/nats.js';

const token = { name: 'ops', token: 'a-token-of-24-characters', scopes: ['read'] as const };

t.test('healthcheck - the URL follows server.listen, on loopback where the API listens on a wildcard', async (t) => {
  const url = (listen: string, tokens: (typeof token)[] = [token]) =>
    healthzUrl({ server: { listen, auth: { tokens } } } as never).href;
  t.equal(url('0.0.0.0:9090'), 'http://127.0.0.1:9090/healthz', '0.0.0.0 is reached on 127.0.0.1');
  t.equal(url('[::]:8080'), 'http://[::1]:8080/healthz', ':: is reached on ::1');
  t.equal(url('127.0.0.2:7000'), 'http://127.0.0.2:7000/healthz', 'a loopback address as it is');
  t.equal(url('[::1]:8081'), 'http://[::1]:8081/healthz', 'an IPv6 address in brackets');
  t.equal(url('192.0.2.10:8080'), 'http://192.0.2.10:8080/healthz', 'another address as it is, with tokens');
  t.equal(url('192.0.2.10:8080', []), 'http://127.0.0.1:8080/healthz', 'without tokens the API is on loopback');

  const shipped = loadConfig(path.join(REPO, 'hooks.config.yaml'));
  t.equal(healthzUrl(shipped).href, 'http://127.0.0.1:8080/healthz', 'the image config');
  const compose = loadConfig(path.join(REPO, 'docker', 'hooks.config.yaml'), { HOOKSD_TOKEN: 'x'.repeat(24) });
  t.equal(healthzUrl(compose).href, 'http://127.0.0.1:8080/healthz', "docker-compose's config");
});

t.test('healthcheck - passes while hooksd answers on the configured port, fails once it stopped', async (t) => {
  const port = await freePort();
  const gateway = await startInProcess(t, { server: { listen: `127.0.0.1:${port}` } });
  const up = await checkHealth(gateway.configFile);
  t.ok(up.ok, up.message);
  t.equal(up.message, `GET http://127.0.0.1:${port}/healthz answered 200`);

  await gateway.app.stop();
  const down = await checkHealth(gateway.configFile);
  t.notOk(down.ok, 'fails when nothing listens');
  t.match(down.message, `GET http://127.0.0.1:${port}/healthz failed: connect ECONNREFUSED`);
});

t.test('healthcheck - fails when the config no longer loads, naming the problem', async (t) => {
  const file = path.join(tempDir(t), 'hooks.config.yaml');
  writeFileSync(file, 'server:\n  listen: "0.0.0.0:${API_PORT}"\n');
  const result = await checkHealth(file, {});
  t.notOk(result.ok);
  t.match(
    result.message,
    `${file} does not load: ${file}:2:11 server.listen: environment variable API_PORT is not set`,
  );
});
