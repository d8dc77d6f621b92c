/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: self time of a V8 CPU profile
 * summed by function and by file (node_modules grouped by package), the top N of each.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function place(url: string): string {
  if (url === '') return '(native/vm)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return 'npm:' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  const dist = url.indexOf('/dist/');
  return dist !== -1 ? url.slice(dist + 6) : url.replace(/^file:\/\//, '');
}

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id) as ProfileNode;
  const where = place(callFrame.url);
  const line = callFrame.url ? ':' + (callFrame.lineNumber + 1) : '';
  const name = `${callFrame.functionName || '(anonymous)'}  ${where}${line}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  byPlace.set(where, (byPlace.get(where) ?? 0) + us);
}

const show = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
};
// Inclusive time of hooksd's own functions: a sample counts once for every distinct
// daemon/ or plugins/ function on its stack.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { callFrame } = byId.get(at) as ProfileNode;
    const where = place(callFrame.url);
    if (!where.startsWith('daemon/') && !where.startsWith('plugins/')) continue;
    const name = `${callFrame.functionName || '(anonymous)'}  ${where}:${callFrame.lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}

console.log(`total sampled: ${(total / 1e6).toFixed(2)} s`);
show('self time by file or package', byPlace);
show('self time by function', byFunction);
show('inclusive time of hooksd functions', inclusive);
