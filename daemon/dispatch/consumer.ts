import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { ConsumerConfig } from '../../config/schema.js';
import type { ConsumerState, StoredSecret } from '../store/records.js';
import type { ConsumerPipeline } from './pipeline.js';
import { signingKeys, type SigningKey } from './secrets.js';

/** The delivery settings a consumer takes when it sets none of its own. */
export interface ConsumerDefaults {
  /** delivery.timeout, in ms. */
  timeout: number;
  /** delivery.concurrency. */
  concurrency: number;
}

/** A consumer's TLS settings as PEM text: its client certificate and key (mTLS) and the CA it trusts. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/** A consumer as the delivery path uses it: settings resolved, keys decoded, agents ready. */
export interface Consumer {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly source: 'yaml' | 'api';
  readonly eventTypes: readonly string[];
  readonly filter?: Readonly<Record<string, unknown>>;
  /** The config's `transform`: the script's path, relative to the config file's folder. */
  readonly transform?: string;
  /** The config's `disabled`, unless the API or a health check changed it since. */
  readonly disabled: boolean;
  readonly state: Readonly<ConsumerState>;
  readonly configDisabled: boolean;
  readonly configSecret?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeout: number;
  readonly concurrency: number;
  readonly rateLimit?: number;
  readonly secrets: readonly StoredSecret[];
  /** Every secret's key with its expiry: use `activeKeys` to pick the ones that sign now. */
  readonly signingKeys: readonly SigningKey[];
  readonly agent: { http: http.Agent; https: https.Agent };
  /** The https agent's client certificate, key and CA (PEM), for a delivery worker to build its own agents. */
  readonly tls: Readonly<TlsFiles>;
  readonly pipeline: ConsumerPipeline;
}

/** What a consumer is built from besides its config entry. */
export interface ConsumerParts {
  source: Consumer['source'];
  defaults: ConsumerDefaults;
  secrets: StoredSecret[];
  pipeline: ConsumerPipeline;
  /** Its state in the control bucket (enabled or disabled, and why). */
  state: ConsumerState;
}

/**
 * A consumer ready for delivery: settings resolved against the defaults, keys decoded, TLS
 * files read (paths relative to the config file's folder `configDir`), keep-alive agents made.
 */
export function buildConsumer(entry: ConsumerConfig, parts: ConsumerParts, configDir: string): Consumer {
  const { source, defaults, secrets, pipeline, state } = parts;
  const concurrency = entry.concurrency ?? defaults.concurrency;
  const agentOptions = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
  const tls: TlsFiles = {
    cert: pem(configDir, entry.tls.cert),
    key: pem(configDir, entry.tls.key),
    ca: pem(configDir, entry.tls.ca),
  };
  return Object.freeze({
    id: entry.id,
    url: entry.url,
    description: entry.description,
    source,
    eventTypes: entry.eventTypes,
    filter: entry.filter,
    transform: entry.transform === undefined ? undefined : path.relative(configDir, entry.transform),
    disabled: state.disabled ?? entry.disabled,
    configDisabled: entry.disabled,
    state,
    headers: entry.headers,
    timeout: entry.timeout ?? defaults.timeout,
    concurrency,
    rateLimit: entry.rateLimit,
    secrets,
    signingKeys: signingKeys(secrets),
    configSecret: entry.secret,
    agent: { http: new http.Agent(agentOptions), https: new https.Agent({ ...agentOptions, ...tls }) },
    tls,
    pipeline,
  });
}

/** PEM text as given, or read from a file path relative to the config file. */
function pem(configDir: string, value: string | undefined): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  return readFileSync(path.resolve(configDir, value), 'utf8');
}
