import os from 'node:os';
import { INSTANCE_ID_PATTERN, type HooksdConfig } from '../../config/schema.js';
import { HooksdError } from '../common/errors.js';

const FITS = new RegExp(INSTANCE_ID_PATTERN);

/**
 * This instance's id: `instance.id`, else the host name, else its first label (a long
 * fully qualified name); a host name that fits neither way asks for `instance.id`.
 */
export function instanceIdOf(config: HooksdConfig, hostname = os.hostname()): string {
  if (config.instance.id !== undefined) return config.instance.id;
  for (const candidate of [hostname, hostname.split('.')[0]]) if (FITS.test(candidate)) return candidate;
  throw new HooksdError(
    'HOOKSD_CONFIG_INVALID',
    `the host name ${JSON.stringify(hostname)} cannot serve as this instance's id (letters, digits, ".", "_" and ` +
      '"-", at most 63 characters): set instance.id in the config file',
  );
}
