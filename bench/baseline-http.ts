/** The bare loop with node:http and nothing else: one keep-alive agent per consumer. */
import http from 'node:http';
import { runBaselineLoop } from './baseline-loop.js';

const agents = new Map<string, http.Agent>();
const concurrency = Number(JSON.parse(process.env.BENCH_BASELINE ?? '{}').concurrency ?? 32);

function agentFor(target: string): http.Agent {
  let agent = agents.get(target);
  if (agent === undefined) {
    agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
    agents.set(target, agent);
  }
  return agent;
}

await runBaselineLoop(
  (target, url, body) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent: agentFor(target), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    }),
);
