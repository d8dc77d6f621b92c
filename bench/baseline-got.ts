/** The bare loop with got, hooksd's own HTTP client: one keep-alive agent per consumer. */
import got from 'got';
import { runBaselineLoop } from './baseline-loop.js';

await runBaselineLoop(async (agent, url, body) => {
  await got.post(url, {
    body,
    headers: { 'content-type': 'application/json' },
    agent: { http: agent },
    throwHttpErrors: false,
    retry: { limit: 0 },
    followRedirect: false,
  });
});
