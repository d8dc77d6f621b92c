import { consumerSchema } from '../../config/schema.js';

/**
 * API consumers take the config's consumer fields except those that name files or code on
 * the gateway's machine (`transform`, `plugins`, `tls`): those stay in the YAML.
 */
const { transform: _transform, plugins: _plugins, tls: _tls, ...apiFields } = consumerSchema.properties;

/** A create body: `id` may be left out, and one is generated, as Svix's and Codat's APIs do. */
export const createConsumerSchema = {
  ...consumerSchema,
  required: ['url'],
  properties: {
    ...apiFields,
    id: {
      ...apiFields.id,
      description: `${apiFields.id.description} Left out, one is generated: "con_" then 23 letters and digits.`,
    },
  },
};

/** Settings a PATCH may clear with `null`, so the global default applies again. */
const CLEARABLE = new Set(['filter', 'rateLimit', 'concurrency', 'timeout', 'retrySchedule']);
/** Changed through their own routes: the id never, the secret by rotation. */
const FIXED = new Set(['id', 'secret']);

/** A PATCH body: any of the create fields, none required, no defaults. */
export const patchConsumerSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: Object.fromEntries(
    Object.entries(apiFields)
      .filter(([name]) => !FIXED.has(name))
      .map(([name, schema]) => {
        const { default: _default, ...rest } = schema as Record<string, unknown>;
        const clearable = { anyOf: [{ type: 'null' }, rest], description: `${rest.description} \`null\` clears it.` };
        return [name, CLEARABLE.has(name) ? clearable : rest];
      }),
  ),
};
