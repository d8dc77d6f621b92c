// Checks the Dockerfile without Docker: what it copies exists, what it runs is defined, the
// image runs as non-root, and its health check really passes and fails (run here with node).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
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

/** The HEALTHCHECK command in exec form, e.g. ['node', 'bin/healthcheck.js']. */
function healthCheck(): string[] | null {
  const instruction = instructionsOf(finalStage, 'HEALTHCHECK').at(-1);
  if (!instruction) return null;
  const match = /^CMD\s+(\[.*\])\s*$/s.exec(splitFlags(instruction.args).rest);
  return match ? (JSON.parse(match[1]!) as string[]) : null;
}

/**
 * Runs the health check as the image does (node, the script, $HOOKSD_CONFIG), with the repo's
 * script and build in place of the image's; its exit code and what it printed.
 */
async function runHealthCheck(argv: string[], configFile: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, argv.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, HOOKSD_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

t.test('Dockerfile - the health check runs a script of the image with node', async (t) => {
  const argv = healthCheck();
  t.ok(argv, 'HEALTHCHECK CMD is in exec form');
  if (!argv || !finalStage) return;
  t.equal(argv[0], 'node', 'runs node (the slim image has no curl or wget)');
  const script = argv[1] ?? '';
  const found = lookup(finalStage, posix.resolve('/app', script));
  t.equal(found?.kind, 'file', `${script} is in the image${found ? ` (${found.origin})` : ''}`);
  for (const [, specifier] of readRepoFile(script).matchAll(/from\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = posix.resolve(posix.dirname(posix.resolve('/app', script)), specifier!);
    const imported = lookup(finalStage, target);
    t.equal(imported?.kind, 'file', `${script} imports ${specifier}: ${target} is in the image`);
  }
});

t.test(
  'Dockerfile - the health check GETs /healthz on the configured port and fails when it does not answer 2xx',
  async (t) => {
    const argv = healthCheck();
    if (!argv) return t.fail('no HEALTHCHECK CMD in exec form');
    let status = 200;
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    const port = await listen(server);
    t.teardown(() => server.close());
    const dir = t.testdir();
    // Listening on 0.0.0.0 with a token, as in a container: the check looks on loopback.
    const configFile = join(dir, 'hooks.config.yaml');
    const tokens = `[{ name: ops, token: "${'t'.repeat(24)}", scopes: [read] }]`;
    writeFileSync(configFile, `server:\n  listen: 0.0.0.0:${port}\n  auth:\n    tokens: ${tokens}\n`);

    const passed = await runHealthCheck(argv, configFile);
    t.equal(passed.code, 0, `passes when /healthz on port ${port} answers 200: ${passed.output.trim()}`);
    t.same(requests, ['GET /healthz'], 'sent one GET /healthz');
    status = 503;
    t.not((await runHealthCheck(argv, configFile)).code, 0, 'fails when /healthz answers 503');
    await new Promise((resolve) => server.close(resolve));
    const refused = await runHealthCheck(argv, configFile);
    t.not(refused.code, 0, 'fails when nothing listens');
    t.match(refused.output, `127.0.0.1:${port}`, 'and says where it looked');
  },
);
