/** The bare loop with got, hooksd's own HTTP client: one keep-alive agent per consumer. */
import http from 'node:http';
import got from 'got';
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

await runBaselineLoop(async (target, url, body) => {
  await got.post(url, {
    body,
    headers: { 'content-type': 'application/json' },
    agent: { http: agentFor(target) },
    throwHttpErrors: false,
    retry: { limit: 0 },
    followRedirect: false,
  });
});
