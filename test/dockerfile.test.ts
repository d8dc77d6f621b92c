// Checks the Dockerfile without Docker: what it copies exists, what it runs is defined, the
// image runs as non-root, and its health check really passes and fails (run here with node).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import {
  buildOutput,
  commands,
  dockerfile,
  finalStage,
  type Found,
  ignoredByDocker,
  inContext,
  instructionsOf,
  lookup,
  parseCopy,
  readRepoFile,
  repoRoot,
  scripts,
  splitFlags,
  stageLabel,
  stageNamed,
  stages,
  words,
} from './helpers/dockerfile.js';

t.test('Dockerfile - is multi-stage, every stage on node:20-bookworm-slim', async (t) => {
  t.ok(dockerfile, 'Dockerfile exists');
  t.ok(stages.length >= 2, `has a build stage and a runtime stage (found ${stages.length})`);
  for (const stage of stages) {
    if (stageNamed(stage.base) && stageNamed(stage.base)!.index < stage.index) continue;
    t.equal(stage.base, 'node:20-bookworm-slim', `${stageLabel(stage)} base image`);
  }
  t.not(finalStage?.name, stages[0]?.name, 'the runtime stage is not the build stage');
});

t.test(
  'Dockerfile - every COPY source exists in the repo (outside .dockerignore) or in the stage it names',
  async (t) => {
    const copies = stages.flatMap((stage) =>
      instructionsOf(stage, 'COPY').map((instruction) => ({ stage, instruction })),
    );
    t.ok(copies.length > 0, 'copies something');
    for (const { stage, instruction } of copies) {
      const copy = parseCopy(instruction.args);
      t.ok(copy.sources.length > 0, `Dockerfile:${instruction.line} names a source and a destination`);
      for (const src of copy.sources) {
        if (copy.from === null) {
          t.ok(inContext(src), `${stageLabel(stage)}, Dockerfile:${instruction.line}: ${src} is in the build context`);
          continue;
        }
        const from = stageNamed(copy.from);
        t.ok(
          from && from.index < stage.index,
          `Dockerfile:${instruction.line}: --from=${copy.from} is an earlier stage`,
        );
        if (!from) continue;
        const found = lookup(from, posix.resolve('/', src));
        t.ok(
          found,
          `Dockerfile:${instruction.line}: ${src} exists in ${stageLabel(from)}${found ? ` (${found.origin})` : ''}`,
        );
      }
    }
  },
);

t.test('Dockerfile - the build commands exist and have the files they need', async (t) => {
  const build = stages.find((stage) => stage !== finalStage && instructionsOf(stage, 'RUN').length > 0);
  t.ok(build, 'a build stage runs commands');
  if (!build) return;
  const order: string[] = [];
  build.instructions.forEach((instruction, index) => {
    if (instruction.keyword !== 'RUN') return;
    const here = (file: string): Found | null => lookup(build, posix.resolve(instruction.cwd, file), index);
    for (const [program, subcommand, ...rest] of commands(instruction.args)) {
      if (program !== 'npm') continue;
      const at = `Dockerfile:${instruction.line} npm ${[subcommand, ...rest].join(' ')}`;
      order.push([subcommand, ...rest].join(' '));
      t.ok(here('package.json'), `${at}: package.json is copied in before`);
      if (subcommand === 'ci') {
        t.ok(existsSync(join(repoRoot, 'package-lock.json')), `${at}: the repo has the package-lock.json npm ci needs`);
        t.ok(here('package-lock.json'), `${at}: package-lock.json is copied in before`);
      } else if (subcommand === 'run' || subcommand === 'test' || subcommand === 'start') {
        const script = subcommand === 'run' ? (rest[0] ?? '') : subcommand;
        t.ok(scripts[script], `${at}: package.json has a "${script}" script`);
        t.ok(here('node_modules'), `${at}: dependencies are installed before`);
        if (script === 'build') {
          const output = buildOutput();
          t.ok(output, `${at}: the build script is tsc with a tsconfig that sets outDir`);
          if (!output) continue;
          t.ok(here(output.tsconfig), `${at}: ${output.tsconfig} is copied in before`);
          for (const folder of output.include.filter((entry) => existsSync(join(repoRoot, entry)))) {
            t.ok(here(folder), `${at}: ${folder}/ (in tsconfig include) is copied in before`);
          }
        }
      } else if (subcommand === 'prune') {
        t.ok(here('node_modules'), `${at}: there are dependencies to prune`);
        t.ok(rest.includes('--omit=dev') || rest.includes('--production'), `${at}: prunes the dev dependencies`);
      } else {
        t.fail(`${at}: not a command this test knows how to check`);
      }
    }
  });
  const ci = order.indexOf('ci');
  const runBuild = order.indexOf('run build');
  const prune = order.findIndex((command) => command.startsWith('prune'));
  t.ok(
    ci >= 0 && runBuild > ci && prune > runBuild,
    `runs npm ci, then npm run build, then npm prune (ran: ${order.join(', ') || 'nothing'})`,
  );
});

t.test('Dockerfile - the runtime stage runs as a non-root user', async (t) => {
  const users = instructionsOf(finalStage, 'USER');
  t.ok(users.length > 0, 'the runtime stage sets USER');
  const user = users.at(-1)?.args.split(':')[0] ?? 'root';
  t.notOk(['root', '0', ''].includes(user), `the last USER (${user}) is not root`);
  const created = instructionsOf(finalStage, 'RUN').some((run) =>
    new RegExp(`\\b(useradd|adduser)\\b.*\\b${user}\\b`).test(run.args),
  );
  t.ok(user === 'node' || created, `user ${user} exists: the node image's own user, or created in the stage`);
});

t.test('Dockerfile - the runtime stage has nats-server for the embedded NATS, without apt lists', async (t) => {
  const runs = instructionsOf(finalStage, 'RUN').map((run) => run.args);
  t.ok(
    runs.some((run) => /apt-get install\b.*\bnats-server\b/.test(run)),
    'installs the nats-server package',
  );
  t.ok(
    runs.some((run) => /apt-get install\b.*--no-install-recommends/.test(run)),
    'without recommended packages',
  );
  t.ok(
    runs.some((run) => /apt-get install\b[\s\S]*rm -rf \/var\/lib\/apt\/lists/.test(run)),
    'removes the apt lists in the same layer',
  );
});

t.test('Dockerfile - the entrypoint, config and data folder are where the runtime stage expects them', async (t) => {
  t.ok(finalStage, 'has a runtime stage');
  if (!finalStage) return;
  const lastWorkdir = instructionsOf(finalStage, 'WORKDIR').at(-1);
  const workdir = lastWorkdir ? posix.resolve(lastWorkdir.cwd, lastWorkdir.args) : '/';
  t.equal(workdir, '/app', 'WORKDIR /app');

  const entrypoint = instructionsOf(finalStage, 'ENTRYPOINT').at(-1);
  t.ok(entrypoint?.args.startsWith('['), 'ENTRYPOINT is in exec form, so signals reach node');
  const [script] = entrypoint?.args.startsWith('[') ? words(entrypoint.args) : [];
  t.equal(script, 'bin/hooksd.js', 'the entrypoint runs the package bin, whose shebang carries the heap settings');
  t.match(
    readRepoFile('bin/hooksd.js').split('\n')[0],
    /^#!\/usr\/bin\/env -S (MALLOC_ARENA_MAX=\d+ )?node --max-old-space-size=\d+/,
    'the package bin sets its heap limit',
  );
  const scriptFound = script ? lookup(finalStage, posix.resolve(workdir, script)) : null;
  t.equal(
    scriptFound?.kind,
    'file',
    `${script ?? 'the entrypoint script'} is in the image${scriptFound ? ` (${scriptFound.origin})` : ''}`,
  );
  if (script && existsSync(join(repoRoot, script))) {
    const imports = [...readRepoFile(script).matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map(
      (match) => match[1]!,
    );
    t.ok(imports.length > 0, `${script} imports the compiled daemon`);
    for (const specifier of imports) {
      const target = posix.resolve(posix.dirname(posix.resolve(workdir, script)), specifier);
      const found = lookup(finalStage, target);
      t.equal(
        found?.kind,
        'file',
        `${script} imports ${specifier}: ${target} is in the image${found ? ` (${found.origin})` : ''}`,
      );
    }
  }
  const cmd = instructionsOf(finalStage, 'CMD').at(-1);
  t.same(cmd?.args.startsWith('[') ? words(cmd.args) : cmd?.args, ['start'], 'CMD ["start"]');

  const env = new Map<string, string>();
  for (const instruction of instructionsOf(finalStage, 'ENV')) {
    for (const [, key, value] of instruction.args.matchAll(/(\w+)=("[^"]*"|\S+)/g))
      env.set(key!, value!.replace(/^"|"$/g, ''));
  }
  const configPath = env.get('HOOKSD_CONFIG');
  t.equal(configPath, '/app/hooks.config.yaml', 'HOOKSD_CONFIG names the shipped config');
  const config = configPath ? lookup(finalStage, configPath) : null;
  t.equal(config?.kind, 'file', `HOOKSD_CONFIG is a file in the image${config ? ` (${config.origin})` : ''}`);

  const volumes = instructionsOf(finalStage, 'VOLUME').flatMap((instruction) => words(instruction.args));
  t.ok(volumes.includes('/app/data'), 'VOLUME /app/data');
  t.equal(lookup(finalStage, '/app/data')?.kind, 'dir', '/app/data is created in the image');
  const user = instructionsOf(finalStage, 'USER').at(-1)?.args.split(':')[0] ?? 'root';
  const chowned = instructionsOf(finalStage, 'RUN').some((run) =>
    new RegExp(`chown\\s+(-R\\s+)?${user}(:\\S+)?\\s+(\\S+\\s+)*/app/data\\b`).test(run.args),
  );
  t.ok(chowned, `/app/data is owned by ${user}, so it can write there`);

  const exposed = instructionsOf(finalStage, 'EXPOSE').flatMap((instruction) => words(instruction.args));
  t.ok(exposed.includes('8080') || exposed.includes('8080/tcp'), 'EXPOSE 8080');
});

t.test('Dockerfile - .dockerignore keeps host builds and state out of the context', async (t) => {
  for (const path of ['node_modules', 'dist', 'data', '.git', '.tap']) {
    t.ok(ignoredByDocker(path), `${path} is in .dockerignore`);
  }
  t.notOk(ignoredByDocker('package.json'), 'package.json is not');
});

interface HealthCheck {
  argv: string[];
  url: URL;
}

function healthCheck(): HealthCheck | null {
  const instruction = instructionsOf(finalStage, 'HEALTHCHECK').at(-1);
  if (!instruction) return null;
  const { rest } = splitFlags(instruction.args);
  const match = /^CMD\s+(.*)$/s.exec(rest);
  if (!match) return null;
  const command = match[1]!.trim();
  const argv = command.startsWith('[') ? (JSON.parse(command) as string[]) : ['/bin/sh', '-c', command];
  const url = /https?:\/\/[^\s'"`)]+/.exec(argv.join(' '))?.[0];
  return url ? { argv, url: new URL(url) } : null;
}

/** Runs the health check command against a local server on another port; its exit code. */
async function runHealthCheck(check: HealthCheck, port: number): Promise<number | null> {
  const argv = check.argv.map((arg) => arg.replaceAll(check.url.host, `127.0.0.1:${port}`));
  const program = argv[0] === 'node' ? process.execPath : argv[0]!;
  const child = spawn(program, argv.slice(1), { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

t.test('Dockerfile - the health check GETs /healthz with node and fails when it does not answer 2xx', async (t) => {
  const check = healthCheck();
  t.ok(check, 'HEALTHCHECK CMD requests an http URL');
  if (!check) return;
  t.equal(check.url.pathname, '/healthz', 'checks /healthz');
  t.ok(['127.0.0.1', 'localhost'].includes(check.url.hostname), 'on loopback, inside the container');
  t.equal(check.url.port, '8080', 'on the exposed API port');
  t.ok(
    check.argv[0] === 'node' || /^node\s/.test(check.argv[2] ?? ''),
    'runs node (the slim image has no curl or wget)',
  );

  let status = 200;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.statusCode = req.url === '/healthz' ? status : 404;
    res.end();
  });
  const port = await listen(server);
  t.teardown(() => server.close());

  t.equal(await runHealthCheck(check, port), 0, 'passes when /healthz answers 200');
  t.same(requests, ['GET /healthz'], 'sent one GET /healthz');
  status = 503;
  t.not(await runHealthCheck(check, port), 0, 'fails when /healthz answers 503');
  await new Promise((resolve) => server.close(resolve));
  t.not(await runHealthCheck(check, port), 0, 'fails when nothing listens');
});
