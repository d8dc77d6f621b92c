#!/usr/bin/env node
// The container's health check (Dockerfile HEALTHCHECK): exits 0 when the API answers GET
// /healthz where the config ($HOOKSD_CONFIG, else ./hooks.config.yaml) says it listens, 1 when not.
import { checkHealth } from '../dist/daemon/main/healthcheck.js';

const { ok, message } = await checkHealth(process.env.HOOKSD_CONFIG || 'hooks.config.yaml');
(ok ? console.log : console.error)(`healthcheck: ${message}`);
process.exit(ok ? 0 : 1);
