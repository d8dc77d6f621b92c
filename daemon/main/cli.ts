import { parseArgs } from 'node:util';
import { HooksdError } from '../common/errors.js';
import { usageError, type Command } from './commands/command.js';
import { publishCommand } from './commands/publish.js';
import { startCommand } from './commands/start.js';
import { tailCommand } from './commands/tail.js';
import { validateCommand } from './commands/validate.js';
import { migrateRulesCommand } from './migrate-rules-command.js';
import { packageVersion } from '../common/version.js';

const COMMANDS: readonly Command[] = [startCommand, validateCommand, publishCommand, tailCommand, migrateRulesCommand];

function usage(): string {
  return [
    'usage: hooksd <command> [options] [--config FILE]',
    '',
    'commands:',
    ...COMMANDS.flatMap((c) => [`  hooksd ${c.synopsis}`, `      ${c.summary}`]),
    '',
    'The config is --config FILE, else $HOOKSD_CONFIG, else ./hooks.config.yaml.',
    'hooksd --version prints the version.',
  ].join('\n');
}

/** The command's name (the first word that is not an option or --config's value) and the rest. */
function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config' || argv[i] === '-c') i += 1;
    else if (!argv[i].startsWith('-')) return { name: argv[i], rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

async function run(argv: string[]): Promise<number> {
  const { name, rest } = splitCommand(argv);
  const command = COMMANDS.find((c) => c.name === name);
  if (name !== undefined && command === undefined) {
    throw usageError(
      `unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see hooksd --help)`,
    );
  }
  if (command?.parsesOwnArguments) return command.run({ args: rest, options: {}, configFile: '' });
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        ...command?.options,
      },
    });
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
    const what = unknown === undefined ? (error as Error).message.split('.')[0] : `unknown option ${unknown}`;
    throw usageError(`${what}${command ? ` for hooksd ${command.name}` : ''} (see hooksd --help)`);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    console.log(`hooksd ${packageVersion()}`);
    return 0;
  }
  if (values.help || command === undefined) {
    (values.help ? console.log : console.error)(usage());
    return values.help ? 0 : 2;
  }
  const [least, most] = command.args;
  if (positionals.length < least || positionals.length > most) {
    throw usageError(`usage: hooksd ${command.synopsis}`);
  }
  const configFile = (values.config as string | undefined) ?? (process.env.HOOKSD_CONFIG || 'hooks.config.yaml');
  return command.run({ args: positionals, options: values, configFile });
}

/** Runs hooksd's command line; resolves to the exit code (2 for a command line it cannot run). */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (!(error instanceof HooksdError)) throw error;
    if (error.code === 'HOOKSD_USAGE') {
      console.error(`hooksd: ${error.message}`);
      return 2;
    }
    console.error(`hooksd: ${error.code}: ${error.message}`);
    return 1;
  }
}
