// The image check (`npm run test:image`, run by .ci/run): builds the real Dockerfile with podman,
// on a local stand-in for its base image since no registry is reachable, and runs the image:
// non-root, /healthz from the host through a published port, the image's own health check on
// the port the config names, a delivery by the image's hooksd and nats-server, and a clean stop
// on SIGTERM. Prints the build time and the image size. Needs root, podman, runc and debootstrap
// (scripts/image/install-podman.sh); the steps run in order and each needs the one before.
import tap from 'tap';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { parse, stringify } from 'yaml';
import { composeConfigText, composeNatsVersion } from '../helpers/compose.js';
import { eventually, tempDir } from '../helpers/hooksd.js';
import { podman, run, SCRIPTS, tail } from '../helpers/podman.js';

const TAG = 'localhost/hooksd:image-check';
const NAME = `hooksd-image-check-${process.pid}`;
// Not the image's 8080: the health check has to find the port in the config.
const API_PORT = 9090;
// A receiver inside the container's network namespace: its loopback is the container's own.
const RECEIVER_PORT = 9000;
const token = randomBytes(24).toString('hex');
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const steps = { built: false, running: false };
let api = '';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

tap.test('image - a base image named as in the Dockerfile: a stand-in made here, or a real one', async (t) => {
  const made = await run(path.join(SCRIPTS, 'stand-in-base.sh'), []);
  t.equal(made.code, 0, made.code === 0 ? 'the base image is there' : tail(made));
  t.comment(made.stdout.trim());
});

tap.test('image - the Dockerfile builds with podman', async (t) => {
  const build = await run(path.join(SCRIPTS, 'build.sh'), [TAG], { timeoutMs: 900_000 });
  t.equal(build.code, 0, build.code === 0 ? `built ${TAG}` : tail(build, 60));
  if (build.code !== 0) return;
  steps.built = true;
  const cached = build.stdout.split('\n').filter((line) => line.includes('Using cache')).length;
  const size = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', TAG])).stdout.trim());
  t.comment(`build time: ${(build.ms / 1000).toFixed(1)} s${cached > 0 ? ` (${cached} steps from the cache)` : ''}`);
  t.comment(`image size: ${mb(size)} (${size} bytes)`);
  t.ok(size > 0, 'has a size');

  const inspected = await podman(['image', 'inspect', '--format', '{{.Config.User}} {{json .HealthCheck}}', TAG]);
  const [user, healthcheck] = inspected.stdout.trim().split(/ (.*)/s);
  t.equal(user, 'node', 'runs as the node user');
  t.same(
    (JSON.parse(healthcheck ?? 'null') as { Test?: string[] } | null)?.Test,
    ['CMD', 'node', 'bin/healthcheck.js'],
    'kept its HEALTHCHECK (docker format)',
  );
  const npmrc = await podman(['run', '--rm', '--entrypoint', 'ls', TAG, '-A', '/root', '/usr/local/etc']);
  t.notMatch(npmrc.stdout, /npmrc|ca-certificates/, "the build's CA bundle and .npmrc are not in the image");

  const version = await podman(['run', '--rm', '--entrypoint', 'nats-server', TAG, '--version']);
  t.equal(
    /v(\d+\.\d+\.\d+)/.exec(version.stdout)?.[1],
    composeNatsVersion(),
    `the image's nats-server (${version.stdout.trim()}) is the version docker-compose.yml pins`,
  );
});

tap.test('image - runs, and /healthz answers from the host through a port published on loopback', async (t) => {
  if (!steps.built) return t.fail('the image was not built');
  // docker/hooks.config.yaml (0.0.0.0, token from $HOOKSD_TOKEN) with the embedded NATS, another
  // port, and a consumer on the container's loopback.
  const config = parse(composeConfigText) as Record<string, any>;
  delete config.nats;
  config.server.listen = `0.0.0.0:${API_PORT}`;
  config.delivery = { network: { allowCidrs: ['127.0.0.1/32'] } };
  config.consumers = [
    { id: 'receiver', url: `http://127.0.0.1:${RECEIVER_PORT}/hook`, eventTypes: ['connection.created'], secret },
  ];
  // The container outlives this step: it is removed, and its config file, when the file ends.
  const configFile = path.join(tempDir(tap, 'image'), 'hooks.config.yaml');
  writeFileSync(configFile, stringify(config), { mode: 0o644 });
  tap.teardown(async () => void (await podman(['rm', '--force', '--volumes', NAME])));
  // --read-only: hooksd writes only to its data volume (and /tmp, a tmpfs).
  const started = await podman(
    [
      ...['run', '--detach', '--name', NAME, '--init', '--read-only'],
      ...['--publish', `127.0.0.1::${API_PORT}`, '--env', 'HOOKSD_TOKEN'],
      ...['--volume', `${configFile}:/app/hooks.config.yaml:ro`, TAG],
    ],
    { env: { HOOKSD_TOKEN: token } },
  );
  t.equal(started.code, 0, started.code === 0 ? `started ${NAME}` : tail(started));
  if (started.code !== 0) return;
  const port = (await podman(['port', NAME, `${API_PORT}/tcp`])).stdout.trim();
  t.match(port, /^127\.0\.0\.1:\d+$/, `port ${API_PORT} is published on loopback (${port})`);
  api = `http://${port}`;
  const status = await eventually(
    async () => (await fetch(`${api}/healthz`).catch(() => undefined))?.status,
    60_000,
    `${api}/healthz to answer`,
  ).catch(async (error: Error) => {
    t.comment(tail(await podman(['logs', NAME])));
    throw error;
  });
  t.equal(status, 200, `GET ${api}/healthz answered 200`);
  steps.running = true;
  const unauthenticated = await fetch(`${api}/v1/consumers`);
  t.equal(unauthenticated.status, 401, 'the API asks for the token');
});

tap.test('image - every process in the container runs as a non-root user', async (t) => {
  if (!steps.running) return t.fail('the container is not running');
  t.equal((await podman(['exec', NAME, 'id', '-u'])).stdout.trim(), '1000', 'id -u is 1000 (node)');
  const top = await podman(['top', NAME, 'user', 'args']);
  const processes = top.stdout.trim().split('\n').slice(1);
  t.ok(processes.length >= 3, `init, hooksd and nats-server are running (${processes.length} processes)`);
  for (const line of processes) t.match(line, /^node\s/, `as node: ${line.replace(/\s+/g, ' ').slice(0, 80)}`);
});

tap.test("image - the image's health check passes, on the port the config names", async (t) => {
  if (!steps.running) return t.fail('the container is not running');
  const check = await podman(['healthcheck', 'run', NAME]);
  t.equal(check.code, 0, check.code === 0 ? 'podman healthcheck run passes' : tail(check));
  const health = await podman(['inspect', '--format', '{{json .State.Health}}', NAME]);
  const state = JSON.parse(health.stdout) as { Status: string; Log: { Output: string }[] };
  t.equal(state.Status, 'healthy', 'the container is healthy');
  t.match(
    state.Log.at(-1)?.Output,
    `GET http://127.0.0.1:${API_PORT}/healthz answered 200`,
    `the check asked port ${API_PORT}, from the config`,
  );
});

const RECEIVER_SCRIPT = `
const fs = require('node:fs');
require('node:http')
  .createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      fs.appendFileSync('/tmp/received.jsonl', JSON.stringify({ url: req.url, headers: req.headers, body }) + '\\n');
      res.end();
    });
  })
  .listen(${RECEIVER_PORT}, '127.0.0.1', () => fs.writeFileSync('/tmp/receiver-ready', ''));
`;

tap.test("image - delivers an event published over HTTP, through the image's own nats-server", async (t) => {
  if (!steps.running) return t.fail('the container is not running');
  const receiver = await podman(['exec', '--detach', NAME, 'node', '-e', RECEIVER_SCRIPT]);
  t.equal(receiver.code, 0, 'a receiver runs in the container');
  await eventually(
    async () => ((await podman(['exec', NAME, 'test', '-e', '/tmp/receiver-ready'])).code === 0 ? true : undefined),
    30_000,
    'the receiver to listen',
  );
  const payload = { connection: { id: randomBytes(8).toString('hex'), status: 'Linked' } };
  const published = await fetch(`${api}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ eventType: 'connection.created', payload }),
  });
  t.equal(published.status, 202, 'POST /v1/events with the token is accepted');
  const line = await eventually(
    async () => (await podman(['exec', NAME, 'cat', '/tmp/received.jsonl'])).stdout.split('\n')[0] || undefined,
    60_000,
    'the receiver to get the event',
  );
  const request = JSON.parse(line) as { url: string; headers: Record<string, string>; body: string };
  t.equal(request.url, '/hook', "to the consumer's URL");
  const delivered = new Webhook(secret).verify(request.body, request.headers) as { payload: unknown };
  t.same(delivered.payload, payload, "signed with the consumer's secret, with the published payload");
});

tap.test('image - SIGTERM stops it cleanly', async (t) => {
  if (!steps.running) return t.fail('the container is not running');
  const stop = await podman(['stop', '--time', '30', NAME]);
  t.equal(stop.code, 0, stop.code === 0 ? `podman stop took ${(stop.ms / 1000).toFixed(1)} s` : tail(stop));
  t.ok(stop.ms < 30_000, 'before podman would have sent SIGKILL');
  const state = await podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', NAME]);
  t.equal(state.stdout.trim(), 'exited 0', 'exited with code 0');
  const logs = await podman(['logs', NAME]);
  const output = `${logs.stdout}${logs.stderr}`;
  t.match(output, /"signal":"SIGTERM","msg":"draining"/, 'hooksd got SIGTERM (the init process forwarded it)');
  t.match(output, /"msg":"hooksd stopped"/, 'and logged "hooksd stopped"');
  t.notMatch(output, token, 'the token is not in the logs');
  t.notMatch(output, secret.slice('whsec_'.length), 'nor the consumer secret');
});
