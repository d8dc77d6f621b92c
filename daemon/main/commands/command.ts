import type { ParseArgsConfig } from 'node:util';
import { HooksdError } from '../../common/errors.js';

/** A `hooksd` command: its options (beside --config and --help) and what it does. */
export interface Command {
  name: string;
  /** The command line, for the usage text: `publish EVENT_TYPE JSON|@file`. */
  synopsis: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** How many arguments it takes, at least and at most. */
  args: [number, number];
  /** It reads its own command line (its options, its usage errors): `run` gets every word after the command. */
  parsesOwnArguments?: boolean;
  run(input: CommandInput): Promise<number>;
}

export interface CommandInput {
  args: string[];
  options: Record<string, string | boolean | undefined>;
  configFile: string;
}

/** A command line hooksd cannot run: said in one line, and `hooksd` exits 2. */
export function usageError(message: string): HooksdError {
  return new HooksdError('HOOKSD_USAGE', message);
}
