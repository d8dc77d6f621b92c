// Checks docker-compose.yml without running compose (no compose here): hooksd waits for a
// healthy NATS, whose health check is run for real against this machine's nats-server with the
// compose command's flags; one nats-server version; the config listens on 0.0.0.0 with a token.
import t from 'tap';
import { spawn } from 'node:child_process';
import { loadConfig } from '../config/loader.js';
import { healthzUrl } from '../daemon/main/healthcheck.js';
import { compose, composeConfigText, composeNatsVersion, flagValue } from './helpers/compose.js';
import { finalStage, instructionsOf, repoRoot } from './helpers/dockerfile.js';
import { eventually, tempDir } from './helpers/hooksd.js';
import { freePort } from './helpers/nats.js';
import { reapOnExit } from './helpers/reaper.js';

const { nats, hooksd } = compose.services;
const token = 'a-compose-token-of-32-characters';
const config = loadConfig(`${repoRoot}/docker/hooks.config.yaml`, { HOOKSD_TOKEN: token });

t.test('compose - hooksd starts once NATS is healthy', async (t) => {
  t.ok(nats && hooksd, 'has the services nats and hooksd');
  const dependsOn = hooksd?.depends_on;
  t.same(
    Array.isArray(dependsOn) ? dependsOn : dependsOn?.nats,
    { condition: 'service_healthy' },
    'hooksd depends on nats with condition: service_healthy',
  );
  const test = nats?.healthcheck?.test ?? [];
  t.equal(test[0], 'CMD', 'nats has a health check in exec form');
  t.match(test.join(' '), /\bhttp:\/\/127\.0\.0\.1:\d+\/healthz\b/, "it GETs nats-server's /healthz");
});

t.test('compose - the NATS command and health check work with nats-server, JetStream on the volume', async (t) => {
  const command = nats?.command ?? [];
  t.equal(command[0], 'nats-server', "the command runs nats-server (the alpine image's entrypoint execs it)");
  t.ok(command.includes('--jetstream') || command.includes('-js'), 'with JetStream');
  const storeDir = flagValue(command, '--store_dir', '-sd');
  t.ok(
    nats?.volumes?.some((volume) => volume.split(':')[1] === storeDir),
    `the JetStream store (${storeDir}) is on a volume`,
  );
  const monitorPort = flagValue(command, '--http_port', '-m');
  const checked = /127\.0\.0\.1:(\d+)\/healthz/.exec((nats?.healthcheck?.test ?? []).join(' '))?.[1];
  t.equal(checked, monitorPort, 'the health check asks the monitoring port the command opens');

  // The compose command as it is, on free ports and a temporary store: /healthz answers 200.
  const [httpPort, clientPort] = [await freePort(), await freePort()];
  const args = command
    .slice(1)
    .map((word) => (word === storeDir ? tempDir(t, 'nats') : word === monitorPort ? String(httpPort) : word));
  const child = spawn('nats-server', [...args, '-a', '127.0.0.1', '-p', String(clientPort)], { stdio: 'ignore' });
  const forget = reapOnExit(child.pid!);
  t.teardown(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    forget();
  });
  const status = await eventually(
    async () => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
      return response?.ok ? response.status : undefined;
    },
    30_000,
    "nats-server's /healthz to answer 200",
  );
  t.equal(status, 200, `nats-server ${args.join(' ')} answers /healthz`);
});

t.test('compose - one nats-server version: a pinned tag, the one Debian bookworm gives the image', async (t) => {
  t.ok(composeNatsVersion(), `the nats image (${nats?.image}) is pinned to a full version`);
  const install = instructionsOf(finalStage, 'RUN').find((run) => /apt-get install\b.*\bnats-server\b/.test(run.args));
  t.ok(install, "the image's nats-server is Debian's package");
  // bookworm's nats-server is 2.9.10; the image check compares the built image's with the tag.
  t.equal(composeNatsVersion(), '2.9.10', "the tag is bookworm's nats-server version");
});

t.test('compose - the config listens on 0.0.0.0 with a token, on the published port', async (t) => {
  const mounted = hooksd?.volumes?.find((volume) => volume.startsWith('./docker/hooks.config.yaml:'));
  const env = instructionsOf(finalStage, 'ENV')
    .map((instruction) => instruction.args)
    .join(' ');
  t.ok(
    mounted?.split(':')[1] && env.includes(`HOOKSD_CONFIG=${mounted.split(':')[1]}`),
    'mounted where HOOKSD_CONFIG points',
  );
  t.match(config.server.listen, /^0\.0\.0\.0:\d+$/, 'server.listen is on 0.0.0.0');
  t.same(
    config.server.auth.tokens.map((entry) => entry.token),
    [token],
    'with one token, taken from $HOOKSD_TOKEN',
  );
  t.match(composeConfigText, 'token: "${HOOKSD_TOKEN}"', 'the token is not written in the file');
  t.match(
    hooksd?.environment?.HOOKSD_TOKEN ?? '',
    /^\$\{HOOKSD_TOKEN:\?/,
    'compose refuses to start without HOOKSD_TOKEN',
  );

  const port = config.server.listen.split(':')[1];
  t.ok(
    hooksd?.ports?.some((mapping) => mapping.split(':').at(-1) === port),
    `a published port maps to the container's ${port}`,
  );
  t.equal(healthzUrl(config).href, `http://127.0.0.1:${port}/healthz`, "the image's health check looks on that port");
  t.notOk(hooksd?.healthcheck, "compose keeps the image's health check, which follows the config");
  t.equal(hooksd?.init, true, 'an init process forwards signals');
});

t.test('compose - hooksd reaches the compose nats service', async (t) => {
  const clientPort = flagValue(nats?.command ?? [], '--port', '-p') ?? '4222';
  t.same(config.nats.servers, [`nats://nats:${clientPort}`], 'nats.servers names the nats service and its port');
  t.ok(
    hooksd?.volumes?.some((volume) => volume.split(':')[1] === config.storage.path),
    'storage.path is a volume',
  );
});
