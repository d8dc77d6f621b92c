import { validateConfigFile } from '../../../config/loader.js';
import { HooksdError } from '../../common/errors.js';
import { Pipeline } from '../../dispatch/pipeline.js';
import type { Command } from './command.js';

export const validateCommand: Command = {
  name: 'validate',
  synopsis: 'validate',
  summary: 'check the config and print every problem, exit 1 if any',
  args: [0, 0],
  async run({ configFile }) {
    const { config, problems } = validateConfigFile(configFile);
    if (config === undefined) {
      for (const problem of problems) console.error(problem);
      console.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${configFile}`);
      return 1;
    }
    try {
      await (await Pipeline.load(config, configFile)).stop();
    } catch (error) {
      if (!(error instanceof HooksdError)) throw error;
      console.error(error.message);
      return 1;
    }
    console.log(`${configFile}: valid (${config.consumers.length} consumers, ${config.eventTypes.length} event types)`);
    return 0;
  },
};
