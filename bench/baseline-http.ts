/** The bare loop with node:http and nothing else: one keep-alive agent per consumer. */
import http from 'node:http';
import { runBaselineLoop } from './baseline-loop.js';

await runBaselineLoop(
  (agent, url, body) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    }),
);
