// docker-compose.yml and the config it mounts, read as data for the compose and image checks.
import { parse } from 'yaml';
import { readRepoFile } from './dockerfile.js';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  init?: boolean;
}

export const compose = parse(readRepoFile('docker-compose.yml')) as { services: Record<string, ComposeService> };
export const composeConfigText = readRepoFile('docker/hooks.config.yaml');

/** The nats-server version of the compose `nats` service's image tag, e.g. 2.9.10 of nats:2.9.10-alpine. */
export function composeNatsVersion(): string | null {
  return /^nats:(\d+\.\d+\.\d+)(-[\w.]+)?$/.exec(compose.services.nats?.image ?? '')?.[1] ?? null;
}

/** The value after a flag in a command (`--http_port 8222`), or after any of its spellings. */
export function flagValue(command: string[], ...flags: string[]): string | undefined {
  const at = command.findIndex((word) => flags.includes(word));
  return at >= 0 ? command[at + 1] : undefined;
}
