// A custom hooksd plugin: adds a header naming the tenant an event belongs to, read from a
// dotted path of the envelope. Use it in hooks.config.yaml:
//   pipeline:
//     - eventTypes
//     - payloadFilter
//     - script
//     - { use: ./examples/plugins/tenant-header.js, options: { header: X-Tenant, path: payload.companyId } }
//     - standardWebhooks
//     - schedule
export const name = 'tenantHeader';
export const kind = 'transform';
export const description = 'Adds a header whose value is read from a dotted path of the event envelope.';
export const example =
  '- { use: ./examples/plugins/tenant-header.js, options: { header: X-Tenant, path: payload.companyId } }';
export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    header: {
      type: 'string',
      pattern: '^[A-Za-z0-9-]+$',
      default: 'X-Tenant',
      description: 'Name of the header to add.',
    },
    path: { type: 'string', minLength: 1, description: 'Dotted path into the envelope, like payload.companyId.' },
  },
};

export function create(options) {
  const segments = options.path.split('.');
  return {
    forConsumer() {
      return (webhook) => {
        let value = webhook.payload;
        for (const segment of segments)
          value =
            value !== null && typeof value === 'object' && Object.hasOwn(value, segment) ? value[segment] : undefined;
        if (typeof value !== 'string' && typeof value !== 'number') return webhook;
        return { ...webhook, headers: { ...webhook.headers, [options.header]: String(value) } };
      };
    },
  };
}
