// A model of the Dockerfile and its build context, read without Docker: its stages and
// instructions, what each COPY and RUN puts where, and what .dockerignore leaves out.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const readRepoFile = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
  /** The WORKDIR in effect when the instruction runs. */
  cwd: string;
}

export interface Stage {
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

export interface Found {
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
      cwd = parent
        ? parent.instructions.reduce(
            (dir, ins) => (ins.keyword === 'WORKDIR' ? posix.resolve(ins.cwd, ins.args) : dir),
            '/',
          )
        : '/';
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
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let match = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); match; match = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags.set(match[1]!, match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** Exec form (a JSON array) or shell form, split into words. */
export function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter(Boolean);
}

export function parseCopy(args: string): Copy {
  const { flags, rest } = splitFlags(args);
  const parts = words(rest);
  return { from: flags.get('from') ?? null, sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

/** The commands of a RUN, split at && and ;. */
export function commands(args: string): string[][] {
  return args
    .split(/&&|;|\|\|/)
    .map((command) => command.trim().split(/\s+/).filter(Boolean))
    .filter((command) => command.length > 0);
}

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*|\*|\?)/)
    .map((part) =>
      part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
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
export function ignoredByDocker(relativePath: string): boolean {
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
export function inContext(path: string): Found | null {
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  const relativePath = normalized === '.' ? '' : normalized;
  if (relativePath.startsWith('..') || posix.isAbsolute(relativePath) || ignoredByDocker(relativePath)) return null;
  const absolute = join(repoRoot, relativePath);
  if (!existsSync(absolute)) return null;
  return { kind: statSync(absolute).isDirectory() ? 'dir' : 'file', origin: `repo ${relativePath || '.'}` };
}

const packageJson = JSON.parse(readRepoFile('package.json')) as { scripts?: Record<string, string> };
export const scripts = packageJson.scripts ?? {};

interface BuildOutput {
  tsconfig: string;
  outDir: string;
  rootDir: string;
  include: string[];
}

/** What `npm run build` compiles and where to, from the tsconfig its tsc command uses. */
export function buildOutput(): BuildOutput | null {
  const build = scripts.build;
  if (!build || !/^tsc(\s|$)/.test(build)) return null;
  const tsconfig = /(?:-p|--project)\s+(\S+)/.exec(build)?.[1] ?? 'tsconfig.json';
  const options = JSON.parse(readRepoFile(tsconfig)) as {
    compilerOptions?: { outDir?: string; rootDir?: string };
    include?: string[];
  };
  const outDir = options.compilerOptions?.outDir;
  if (!outDir) return null;
  return { tsconfig, outDir, rootDir: options.compilerOptions?.rootDir ?? '.', include: options.include ?? [] };
}

export const dockerfile = existsSync(join(repoRoot, 'Dockerfile')) ? readRepoFile('Dockerfile') : '';
export const stages = parseDockerfile(dockerfile);
export const finalStage = stages.at(-1);

export function stageNamed(reference: string): Stage | undefined {
  return (
    stages.find((stage) => stage.name === reference) ??
    (/^\d+$/.test(reference) ? stages[Number(reference)] : undefined)
  );
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
      if (path.startsWith(`${output}/`))
        return { kind: 'file', origin: `inside the output of npm ${subcommand} at ${at}` };
    } else if (program === 'npm' && subcommand === 'run' && rest[0] === 'build') {
      const build = buildOutput();
      if (!build) continue;
      const output = posix.resolve(instruction.cwd, build.outDir);
      if (path === output) return { kind: 'dir', origin: `the output of npm run build at ${at}` };
      if (!path.startsWith(`${output}/`)) continue;
      const compiled = posix.relative(output, path);
      const sourceRelative = compiled.replace(/(\.d\.ts|\.js)(\.map)?$/, '.ts');
      const included =
        build.include.length === 0 ||
        build.include.some((entry) => sourceRelative === entry || sourceRelative.startsWith(`${entry}/`));
      const source = included
        ? lookup(stage, posix.resolve(instruction.cwd, build.rootDir, sourceRelative), index)
        : null;
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
export function lookup(stage: Stage, path: string, before = Infinity): Found | null {
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

export function instructionsOf(stage: Stage | undefined, keyword: string): Instruction[] {
  return stage ? stage.instructions.filter((instruction) => instruction.keyword === keyword) : [];
}

export function stageLabel(stage: Stage): string {
  return stage.name ? `stage ${stage.name}` : `stage ${stage.index}`;
}
