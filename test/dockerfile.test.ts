// Checks the Dockerfile without Docker: what it copies exists, what it runs is defined, the
// image runs as non-root, and its health check really passes and fails (run here with node).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const readRepoFile = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
  /** The WORKDIR in effect when the instruction runs. */
  cwd: string;
}

interface Stage {
  index: number;
  name: string | null;
  base: string;
  instructions: Instruction[];
}

interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

type Kind = 'file' | 'dir';

interface Found {
  kind: Kind;
  origin: string;
}

/** Instructions grouped by stage; comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  let cwd = '/';
  const add = (statement: string, line: number): void => {
    const match = /^(\S+)\s*(.*)$/s.exec(statement);
    if (!match) return;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const words = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const base = words[0]!;
      const name = words[1]?.toUpperCase() === 'AS' ? words[2]! : null;
      const parent = stages.find((stage) => stage.name === base);
      cwd = parent ? parent.instructions.reduce((dir, ins) => (ins.keyword === 'WORKDIR' ? posix.resolve(ins.cwd, ins.args) : dir), '/') : '/';
      stages.push({ index: stages.length, name, base, instructions: [] });
      return;
    }
    const stage = stages.at(-1);
    if (!stage) return;
    stage.instructions.push({ keyword, args, line, cwd });
    if (keyword === 'WORKDIR') cwd = posix.resolve(cwd, args);
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || line.trim() === '') return;
    if (pending === '') startLine = index + 1;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, '')} `;
      return;
    }
    add(`${pending}${line}`.trim(), startLine);
    pending = '';
  });
  return stages;
}

/** Leading `--flag=value` options, then the rest of an instruction's arguments. */
function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let match = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); match; match = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags.set(match[1]!, match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** Exec form (a JSON array) or shell form, split into words. */
function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter(Boolean);
}

function parseCopy(args: string): Copy {
  const { flags, rest } = splitFlags(args);
  const parts = words(rest);
  return { from: flags.get('from') ?? null, sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

/** The commands of a RUN, split at && and ;. */
function commands(args: string): string[][] {
  return args
    .split(/&&|;|\|\|/)
    .map((command) => command.trim().split(/\s+/).filter(Boolean))
    .filter((command) => command.length > 0);
}

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

const dockerignore = existsSync(join(repoRoot, '.dockerignore'))
  ? readRepoFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
  : [];

/** Whether the build context leaves out a repo path (the last matching pattern decides). */
function ignoredByDocker(relativePath: string): boolean {
  if (relativePath === '') return false;
  const parts = relativePath.split('/');
  let ignored = false;
  for (const raw of dockerignore) {
    const negated = raw.startsWith('!');
    const pattern = globToRegExp(posix.normalize(negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ''));
    for (let depth = 1; depth <= parts.length; depth++) {
      if (pattern.test(parts.slice(0, depth).join('/'))) {
        ignored = !negated;
        break;
      }
    }
  }
  return ignored;
}

/** A path in the build context: it must exist in the repo and not be in .dockerignore. */
function inContext(path: string): Found | null {
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  const relativePath = normalized === '.' ? '' : normalized;
  if (relativePath.startsWith('..') || posix.isAbsolute(relativePath) || ignoredByDocker(relativePath)) return null;
  const absolute = join(repoRoot, relativePath);
  if (!existsSync(absolute)) return null;
  return { kind: statSync(absolute).isDirectory() ? 'dir' : 'file', origin: `repo ${relativePath || '.'}` };
}

const packageJson = JSON.parse(readRepoFile('package.json')) as { scripts?: Record<string, string> };
const scripts = packageJson.scripts ?? {};

interface BuildOutput {
  tsconfig: string;
  outDir: string;
  rootDir: string;
  include: string[];
}

/** What `npm run build` compiles and where to, from the tsconfig its tsc command uses. */
function buildOutput(): BuildOutput | null {
  const build = scripts.build;
  if (!build || !/^tsc(\s|$)/.test(build)) return null;
  const tsconfig = /(?:-p|--project)\s+(\S+)/.exec(build)?.[1] ?? 'tsconfig.json';
  const options = JSON.parse(readRepoFile(tsconfig)) as { compilerOptions?: { outDir?: string; rootDir?: string }; include?: string[] };
  const outDir = options.compilerOptions?.outDir;
  if (!outDir) return null;
  return { tsconfig, outDir, rootDir: options.compilerOptions?.rootDir ?? '.', include: options.include ?? [] };
}

const dockerfile = existsSync(join(repoRoot, 'Dockerfile')) ? readRepoFile('Dockerfile') : '';
const stages = parseDockerfile(dockerfile);
const finalStage = stages.at(-1);

function stageNamed(reference: string): Stage | undefined {
  return stages.find((stage) => stage.name === reference) ?? (/^\d+$/.test(reference) ? stages[Number(reference)] : undefined);
}

/** Where a COPY instruction's output at `path` comes from, if it puts anything there. */
function fromCopy(instruction: Instruction, path: string): Found | null {
  const copy = parseCopy(instruction.args);
  const source = (src: string): Found | null => {
    if (copy.from === null) return inContext(src);
    const stage = stageNamed(copy.from);
    return stage ? lookup(stage, posix.resolve('/', src)) : null;
  };
  const dest = posix.resolve(instruction.cwd, copy.dest);
  const intoFolder = copy.dest.endsWith('/') || copy.sources.length > 1;
  for (const src of copy.sources) {
    const top = source(src);
    if (!top) continue;
    const via = `${top.origin}, copied at Dockerfile:${instruction.line}`;
    if (top.kind === 'dir') {
      // A folder's contents are copied into dest, not the folder itself.
      if (path === dest || dest.startsWith(`${path}/`)) return { kind: 'dir', origin: via };
      if (path.startsWith(`${dest}/`)) {
        const inner = source(posix.join(src, posix.relative(dest, path)));
        if (inner) return { kind: inner.kind, origin: `${inner.origin}, copied at Dockerfile:${instruction.line}` };
      }
    } else {
      const target = intoFolder ? posix.join(dest, posix.basename(src)) : dest;
      if (path === target) return { kind: 'file', origin: via };
      if (target.startsWith(`${path}/`)) return { kind: 'dir', origin: via };
    }
  }
  return null;
}

/**
 * What a RUN instruction creates that later instructions rely on: node_modules, the compiled
 * output (a file there exists when its .ts source was in the stage when the build ran), and
 * folders made with mkdir.
 */
function fromRun(stage: Stage, index: number, path: string): Found | null {
  const instruction = stage.instructions[index]!;
  const at = `Dockerfile:${instruction.line}`;
  for (const [program, subcommand, ...rest] of commands(instruction.args)) {
    if (program === 'npm' && (subcommand === 'ci' || subcommand === 'install')) {
      const output = posix.join(instruction.cwd, 'node_modules');
      if (path === output) return { kind: 'dir', origin: `the output of npm ${subcommand} at ${at}` };
      if (path.startsWith(`${output}/`)) return { kind: 'file', origin: `inside the output of npm ${subcommand} at ${at}` };
    } else if (program === 'npm' && subcommand === 'run' && rest[0] === 'build') {
      const build = buildOutput();
      if (!build) continue;
      const output = posix.resolve(instruction.cwd, build.outDir);
      if (path === output) return { kind: 'dir', origin: `the output of npm run build at ${at}` };
      if (!path.startsWith(`${output}/`)) continue;
      const compiled = posix.relative(output, path);
      const sourceRelative = compiled.replace(/(\.d\.ts|\.js)(\.map)?$/, '.ts');
      const included = build.include.length === 0 || build.include.some((entry) => sourceRelative === entry || sourceRelative.startsWith(`${entry}/`));
      const source = included ? lookup(stage, posix.resolve(instruction.cwd, build.rootDir, sourceRelative), index) : null;
      if (source) return { kind: source.kind, origin: `${source.origin}, compiled by npm run build at ${at}` };
    } else if (program === 'mkdir') {
      for (const dir of rest.filter((word) => !word.startsWith('-'))) {
        const made = posix.resolve(instruction.cwd, dir);
        if (path === made || made.startsWith(`${path}/`)) return { kind: 'dir', origin: `mkdir ${dir} at ${at}` };
      }
    }
  }
  return null;
}

/** What is at `path` in a stage, counting only instructions before `before`. */
function lookup(stage: Stage, path: string, before = Infinity): Found | null {
  if (path === '/') return { kind: 'dir', origin: 'the image root' };
  const upTo = Math.min(before, stage.instructions.length);
  for (let index = upTo - 1; index >= 0; index--) {
    const instruction = stage.instructions[index]!;
    let found: Found | null = null;
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') found = fromCopy(instruction, path);
    else if (instruction.keyword === 'RUN') found = fromRun(stage, index, path);
    if (found) return found;
  }
  const parent = stages.find((candidate) => candidate.name === stage.base && candidate.index < stage.index);
  return parent ? lookup(parent, path) : null;
}

function instructionsOf(stage: Stage | undefined, keyword: string): Instruction[] {
  return stage ? stage.instructions.filter((instruction) => instruction.keyword === keyword) : [];
}

function stageLabel(stage: Stage): string {
  return stage.name ? `stage ${stage.name}` : `stage ${stage.index}`;
}

t.test('Dockerfile - is multi-stage, every stage on node:20-bookworm-slim', async (t) => {
  t.ok(dockerfile, 'Dockerfile exists');
  t.ok(stages.length >= 2, `has a build stage and a runtime stage (found ${stages.length})`);
  for (const stage of stages) {
    if (stageNamed(stage.base) && stageNamed(stage.base)!.index < stage.index) continue;
    t.equal(stage.base, 'node:20-bookworm-slim', `${stageLabel(stage)} base image`);
  }
  t.not(finalStage?.name, stages[0]?.name, 'the runtime stage is not the build stage');
});

t.test('Dockerfile - every COPY source exists in the repo (outside .dockerignore) or in the stage it names', async (t) => {
  const copies = stages.flatMap((stage) => instructionsOf(stage, 'COPY').map((instruction) => ({ stage, instruction })));
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
      t.ok(from && from.index < stage.index, `Dockerfile:${instruction.line}: --from=${copy.from} is an earlier stage`);
      if (!from) continue;
      const found = lookup(from, posix.resolve('/', src));
      t.ok(found, `Dockerfile:${instruction.line}: ${src} exists in ${stageLabel(from)}${found ? ` (${found.origin})` : ''}`);
    }
  }
});

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
        const script = subcommand === 'run' ? rest[0] ?? '' : subcommand;
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
  t.ok(ci >= 0 && runBuild > ci && prune > runBuild, `runs npm ci, then npm run build, then npm prune (ran: ${order.join(', ') || 'nothing'})`);
});

t.test('Dockerfile - the runtime stage runs as a non-root user', async (t) => {
  const users = instructionsOf(finalStage, 'USER');
  t.ok(users.length > 0, 'the runtime stage sets USER');
  const user = users.at(-1)?.args.split(':')[0] ?? 'root';
  t.notOk(['root', '0', ''].includes(user), `the last USER (${user}) is not root`);
  const created = instructionsOf(finalStage, 'RUN').some((run) => new RegExp(`\\b(useradd|adduser)\\b.*\\b${user}\\b`).test(run.args));
  t.ok(user === 'node' || created, `user ${user} exists: the node image's own user, or created in the stage`);
});

t.test('Dockerfile - the runtime stage has nats-server for the embedded NATS, without apt lists', async (t) => {
  const runs = instructionsOf(finalStage, 'RUN').map((run) => run.args);
  t.ok(runs.some((run) => /apt-get install\b.*\bnats-server\b/.test(run)), 'installs the nats-server package');
  t.ok(runs.some((run) => /apt-get install\b.*--no-install-recommends/.test(run)), 'without recommended packages');
  t.ok(runs.some((run) => /apt-get install\b[\s\S]*rm -rf \/var\/lib\/apt\/lists/.test(run)), 'removes the apt lists in the same layer');
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
  t.match(readRepoFile('bin/hooksd.js').split('\n')[0], /^#!\/usr\/bin\/env -S (MALLOC_ARENA_MAX=\d+ )?node --max-old-space-size=\d+/, 'the package bin sets its heap limit');
  const scriptFound = script ? lookup(finalStage, posix.resolve(workdir, script)) : null;
  t.equal(scriptFound?.kind, 'file', `${script ?? 'the entrypoint script'} is in the image${scriptFound ? ` (${scriptFound.origin})` : ''}`);
  if (script && existsSync(join(repoRoot, script))) {
    const imports = [...readRepoFile(script).matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]!);
    t.ok(imports.length > 0, `${script} imports the compiled daemon`);
    for (const specifier of imports) {
      const target = posix.resolve(posix.dirname(posix.resolve(workdir, script)), specifier);
      const found = lookup(finalStage, target);
      t.equal(found?.kind, 'file', `${script} imports ${specifier}: ${target} is in the image${found ? ` (${found.origin})` : ''}`);
    }
  }
  const cmd = instructionsOf(finalStage, 'CMD').at(-1);
  t.same(cmd?.args.startsWith('[') ? words(cmd.args) : cmd?.args, ['start'], 'CMD ["start"]');

  const env = new Map<string, string>();
  for (const instruction of instructionsOf(finalStage, 'ENV')) {
    for (const [, key, value] of instruction.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(key!, value!.replace(/^"|"$/g, ''));
  }
  const configPath = env.get('HOOKSD_CONFIG');
  t.equal(configPath, '/app/hooks.config.yaml', 'HOOKSD_CONFIG names the shipped config');
  const config = configPath ? lookup(finalStage, configPath) : null;
  t.equal(config?.kind, 'file', `HOOKSD_CONFIG is a file in the image${config ? ` (${config.origin})` : ''}`);

  const volumes = instructionsOf(finalStage, 'VOLUME').flatMap((instruction) => words(instruction.args));
  t.ok(volumes.includes('/app/data'), 'VOLUME /app/data');
  t.equal(lookup(finalStage, '/app/data')?.kind, 'dir', '/app/data is created in the image');
  const user = instructionsOf(finalStage, 'USER').at(-1)?.args.split(':')[0] ?? 'root';
  const chowned = instructionsOf(finalStage, 'RUN').some((run) => new RegExp(`chown\\s+(-R\\s+)?${user}(:\\S+)?\\s+(\\S+\\s+)*/app/data\\b`).test(run.args));
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
  t.ok(check.argv[0] === 'node' || /^node\s/.test(check.argv[2] ?? ''), 'runs node (the slim image has no curl or wget)');

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
