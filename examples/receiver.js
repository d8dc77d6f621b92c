#!/usr/bin/env node
// A webhook receiver to try hooksd with: listens on 127.0.0.1:9000, checks each request's
// Standard Webhooks signature with the demo secret of hooks.config.yaml, and prints it.
//   node examples/receiver.js            (PORT and DEMO_WEBHOOK_SECRET override the defaults)
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const port = Number(process.env.PORT ?? 9000);
const secret = process.env.DEMO_WEBHOOK_SECRET || 'whsec_K2DT9TTr2cnjcN2z7gozTK40cWfQbkAP';
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const TOLERANCE_SECONDS = 300;

function verified(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  if (!id || !Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .some((s) => {
      const given = Buffer.from(s.slice(3), 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!verified(req.headers, body)) {
        console.log(`refused ${req.headers['webhook-id']}: bad or missing signature`);
        res.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body.toString('utf8'));
      console.log(`${req.headers['webhook-id']} ${event.eventType} ${event.id} ${JSON.stringify(event.payload)}`);
      res.writeHead(204).end();
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`receiver listening on http://127.0.0.1:${port}/webhooks`));
