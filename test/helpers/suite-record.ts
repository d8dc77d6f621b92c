import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the whole suite's daemons logged, and the credentials the suite gave them, kept under
 * .tap/suite-record/ so that test/zz-last/secrets.test.ts, which runs after every other file,
 * can check that no credential ever reached a log.
 */
const RECORD = fileURLToPath(new URL('../../.tap/suite-record/', import.meta.url));
const LOGS = path.join(RECORD, 'logs');
const CREDENTIALS = path.join(RECORD, 'credentials.txt');
/** Credentials shorter than this are not searched for: they would match by chance. */
const SHORTEST = 12;

let written = 0;

/** Keeps a daemon's log output for the check at the end of the suite. */
export function recordLog(output: string): void {
  if (output === '') return;
  mkdirSync(LOGS, { recursive: true });
  written += 1;
  writeFileSync(path.join(LOGS, `${process.pid}-${written}.log`), output);
}

/** The credentials a config gives hooksd: signing secrets, API tokens, custom header values, mTLS keys. */
export function recordCredentials(config: Record<string, any>): void {
  const found: string[] = [];
  for (const token of config.server?.auth?.tokens ?? []) found.push(token.token);
  for (const consumer of config.consumers ?? []) {
    if (typeof consumer.secret === 'string') found.push(consumer.secret);
    for (const value of Object.values(consumer.headers ?? {})) found.push(String(value));
    if (typeof consumer.tls?.key === 'string') found.push(consumer.tls.key);
  }
  const kept = found.filter((value) => value.length >= SHORTEST && !value.includes('${'));
  if (kept.length === 0) return;
  mkdirSync(RECORD, { recursive: true });
  appendFileSync(CREDENTIALS, kept.map((value) => JSON.stringify(value) + '\n').join(''));
}

/** Every log kept so far, by file name. */
export function recordedLogs(): Map<string, string> {
  const logs = new Map<string, string>();
  if (!existsSync(LOGS)) return logs;
  for (const name of readdirSync(LOGS)) logs.set(name, readFileSync(path.join(LOGS, name), 'utf8'));
  return logs;
}

/** Every credential recorded so far. */
export function recordedCredentials(): string[] {
  try {
    return [
      ...new Set(
        readFileSync(CREDENTIALS, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      ),
    ];
  } catch {
    return [];
  }
}
