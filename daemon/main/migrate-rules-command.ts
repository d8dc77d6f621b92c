/**
 * `hooksd migrate-rules FILE [--out FILE] [--allow-unmapped]`: reads an export of Codat's legacy
 * rules (JSON or YAML) and writes a consumers block for hooks.config.yaml, after checking that
 * it passes `hooksd validate`. Warnings and the rules it could not migrate go to stderr.
 * Exit codes: 0 done, 1 rules not migrated (without --allow-unmapped), 2 usage or input errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { parse } from 'yaml';
import { validateConfigFile } from '../../config/loader.js';
import { HooksdError } from '../common/errors.js';
import { Pipeline } from '../dispatch/pipeline.js';
import type { Command } from './commands/command.js';
import { loadLegacyRuleMap } from './legacy-rules.js';
import { migrateRules, rulesOfExport, type Migration } from './migrate-rules.js';
import { consumerConfig, renderMigration } from './migrate-rules-yaml.js';

export const MIGRATE_RULES_USAGE = 'usage: hooksd migrate-rules FILE [--out FILE] [--allow-unmapped]';
const PREFIX = 'hooksd migrate-rules:';

const HELP = `${MIGRATE_RULES_USAGE}

Reads an export of Codat's legacy rules (JSON or YAML: a list of {id, type, companyId?,
notifiers: {emails?, webhook?}}, or GET /rules's {results: [...]}) and writes a consumers
block for hooks.config.yaml: to stdout, or to --out FILE. Rules with one URL become one
consumer. Email notifiers and rules that cannot be migrated are reported on stderr.

  --out FILE         write the YAML to FILE instead of stdout
  --allow-unmapped   write the rules that could be migrated even when some could not (exit 0)

Exit status: 0 written, 1 some rules could not be migrated, 2 usage or input errors.
docs/migrate-rules.md has the mapping of every legacy rule type.`;

export const migrateRulesCommand: Command = {
  name: 'migrate-rules',
  synopsis: 'migrate-rules FILE [--out FILE] [--allow-unmapped]',
  summary: "turn an export of Codat's legacy rules into a consumers block (docs/migrate-rules.md)",
  args: [1, 1],
  parsesOwnArguments: true,
  run: ({ args }) => runMigrateRules(args),
};

async function runMigrateRules(argv: string[]): Promise<number> {
  let values: { out?: string; 'allow-unmapped'?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        'allow-unmapped': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // Node's message goes on to explain `--`; its first sentence is the problem.
    return usageError((error as Error).message.split('. ')[0]);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) return usageError(positionals.length === 0 ? 'no rules FILE' : 'one rules FILE only');
  const [file] = positionals;

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return usageError(`cannot read ${file}: ${fileError(error)}`);
  }
  let data: unknown;
  try {
    data = parse(text); // JSON is YAML too
  } catch (error) {
    return usageError(`${file} is not JSON or YAML: ${(error as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  const rules = rulesOfExport(data);
  if (rules === undefined) return usageError(`${file} is not a list of rules (nor Codat's {results: [...]})`);

  try {
    return await migrate(rules, file, values.out, values['allow-unmapped'] === true);
  } catch (error) {
    if (!(error instanceof HooksdError)) throw error;
    console.error(`hooksd: ${error.code}: ${error.message}`);
    return 1;
  }
}

async function migrate(rules: unknown[], file: string, out: string | undefined, allowUnmapped: boolean) {
  const migration = migrateRules(rules, loadLegacyRuleMap());
  for (const { label, type, emails } of migration.emailed) {
    console.error(
      `${PREFIX} warning: rule ${label} "${type}" emails ${emails.join(', ')}: hooksd sends no email. ` +
        'Deliver its events to a service that mails them, and follow hooksd.ops.* on NATS (message.failure, ' +
        'consumer.disabled, consumer.enabled) for deliveries that fail; see docs/migrate-rules.md',
    );
  }
  for (const { label, type, reason } of migration.unmapped)
    console.error(`${PREFIX} rule ${label}${type === undefined ? '' : ` "${type}"`} not migrated: ${reason}`);
  if (migration.unmapped.length > 0 && !allowUnmapped) {
    const count = migration.unmapped.length;
    const rules = `${count} rule${count === 1 ? '' : 's'}`;
    console.error(`${PREFIX} ${rules} not migrated; nothing written (--allow-unmapped writes the rest)`);
    return 1;
  }

  const yaml = renderMigration(migration, path.basename(file));
  await checkOutput(yaml, migration);
  if (out === undefined) {
    process.stdout.write(yaml);
  } else {
    try {
      writeFileSync(out, yaml);
    } catch (error) {
      return usageError(`cannot write ${out}: ${fileError(error)}`);
    }
  }
  const { consumers, ruleCount } = migration;
  console.error(
    `${PREFIX} ${ruleCount} rules, ${consumers.length} consumers${out === undefined ? '' : ` written to ${out}`}`,
  );
  return 0;
}

/**
 * What `hooksd validate` does, on the output as a config of its own: the loader and every
 * plugin (filters included) must take it, and the consumers it reads must be the ones meant.
 */
async function checkOutput(yaml: string, migration: Migration): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hooksd-migrate-'));
  try {
    const configFile = path.join(dir, 'hooks.config.yaml');
    writeFileSync(configFile, yaml);
    const { config, problems } = validateConfigFile(configFile);
    if (config === undefined) throw invalidOutput(problems.join('; '));
    try {
      await (await Pipeline.load(config, configFile)).stop();
    } catch (error) {
      throw invalidOutput((error as Error).message);
    }
    const read = config.consumers.map(({ id, url, description, eventTypes, filter }) =>
      JSON.parse(JSON.stringify({ id, url, description, eventTypes, filter })),
    );
    if (!isDeepStrictEqual(read, migration.consumers.map(consumerConfig)))
      throw invalidOutput('the consumers read back differ from the ones written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function invalidOutput(detail: string): HooksdError {
  return new HooksdError('HOOKSD_INTERNAL', `the generated consumers do not pass validation (a bug): ${detail}`);
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  ENOTDIR: 'a folder on its path is a file',
};

function fileError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return (code === undefined ? undefined : FILE_ERRORS[code]) ?? message;
}

function usageError(message: string): number {
  console.error(`${PREFIX} ${message} (${MIGRATE_RULES_USAGE})`);
  return 2;
}
