// Checks docker-compose.cluster.yml without running compose (no compose here): the three NATS
// services' commands are run for real on loopback (ports and store folders swapped for free
// ones) and must form one JetStream cluster whose /healthz answers; the three hooksd services
// each have their own host name (their instance.id) and volume, and read one config that names
// the three servers with replicated streams.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../config/loader.js';
import { flagValue } from './helpers/compose.js';
import { readRepoFile, repoRoot } from './helpers/dockerfile.js';
import { eventually, tempDir } from './helpers/hooksd.js';
import { jetStreamAnswers } from './helpers/nats-cluster.js';
import { freePort } from './helpers/nats.js';
import { reapOnExit } from './helpers/reaper.js';

interface Service {
  command?: string[];
  hostname?: string;
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  stop_grace_period?: string;
}
const compose = parse(readRepoFile('docker-compose.cluster.yml'), { merge: true }) as {
  services: Record<string, Service>;
};
const natsNames = ['nats-1', 'nats-2', 'nats-3'];
const hooksdNames = ['hooksd-1', 'hooksd-2', 'hooksd-3'];
const config = loadConfig(path.join(repoRoot, 'docker/hooks.cluster.yaml'), { HOOKSD_TOKEN: 'a'.repeat(32) });

t.test('compose cluster - the three NATS commands form one JetStream cluster on loopback', async (t) => {
  const services = natsNames.map((name) => compose.services[name]);
  t.ok(
    services.every((service) => service?.command?.[0] === 'nats-server'),
    'three nats-server services',
  );
  const ports = await Promise.all(
    natsNames.map(async () => ({ client: await freePort(), cluster: await freePort(), http: await freePort() })),
  );
  const local = (words: string) =>
    natsNames.reduce((text, name, i) => text.replaceAll(`${name}:6222`, `127.0.0.1:${ports[i].cluster}`), words);
  for (const [i, service] of services.entries()) {
    const command = service.command ?? [];
    const storeDir = flagValue(command, '--store_dir', '-sd');
    t.ok(
      service.volumes?.some((volume) => volume === `${natsNames[i]}:${storeDir}`),
      `${natsNames[i]}: its store on a volume of its own`,
    );
    t.equal(flagValue(command, '--server_name', '-n'), natsNames[i], `${natsNames[i]}: named`);
    const args = command.slice(1).map((word) => {
      if (word === storeDir) return tempDir(t, natsNames[i]);
      if (word === flagValue(command, '--http_port', '-m')) return String(ports[i].http);
      if (word === flagValue(command, '--cluster')) return `nats://127.0.0.1:${ports[i].cluster}`;
      return local(word);
    });
    const child = spawn('nats-server', [...args, '-a', '127.0.0.1', '-p', String(ports[i].client)], {
      stdio: 'ignore',
    });
    const forget = reapOnExit(child.pid!);
    t.teardown(async () => {
      if (child.exitCode !== null) return forget();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      forget();
    });
  }
  await jetStreamAnswers(ports.map((port) => `nats://127.0.0.1:${port.client}`));
  for (const [i, port] of ports.entries()) {
    const status = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port.http}/healthz`).catch(() => undefined);
        return response?.ok ? response.status : undefined;
      },
      30_000,
      `${natsNames[i]}'s /healthz`,
    );
    t.equal(status, 200, `${natsNames[i]}: its health check passes`);
  }
});

t.test('compose cluster - three hooksd, each its own host name and volume, one config', async (t) => {
  const services = hooksdNames.map((name) => compose.services[name]);
  t.same(
    services.map((service) => service?.hostname),
    hooksdNames,
    'each its own host name: its instance.id',
  );
  t.equal(config.instance.id, undefined, 'the config leaves instance.id to the host name');
  for (const [i, service] of services.entries()) {
    t.ok(service.volumes?.includes(`${hooksdNames[i]}:/app/data`), `${hooksdNames[i]}: a volume of its own`);
    t.ok(service.volumes?.includes('./docker/hooks.cluster.yaml:/app/hooks.config.yaml:ro'), 'the shared config');
    t.same(
      Object.keys(service.depends_on ?? {}).sort(),
      natsNames,
      `${hooksdNames[i]} waits for the three NATS servers`,
    );
    t.ok(Number.parseInt(service.stop_grace_period ?? '10s') * 1000 > 2 * config.shutdown.timeout, 'time to hand over');
  }
  t.equal(config.storage.path, '/app/data');
  t.same(
    config.nats.servers,
    natsNames.map((name) => `nats://${name}:4222`),
    'the config names the three servers',
  );
  t.equal(config.nats.replicas, 3, 'and replicates the streams hooksd creates on all three');
});
