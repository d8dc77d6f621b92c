import type { PluginDefinition } from './contract.js';

/**
 * Event-type selection: a consumer lists exact names (`read.completed`), prefixes ending in
 * `.*` (`connection.*` matches `connection.created` and `connection.sync.failed`), or `*`.
 */
export function compileEventTypeSelector(selectors: readonly string[]): (eventType: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const selector of selectors) {
    if (selector === '*') return () => true;
    if (selector.endsWith('.*')) prefixes.push(selector.slice(0, -1));
    else exact.add(selector);
  }
  return (eventType) => exact.has(eventType) || prefixes.some((prefix) => eventType.startsWith(prefix));
}

export const eventTypesPlugin: PluginDefinition<'filter'> = {
  name: 'eventTypes',
  kind: 'filter',
  description:
    "Delivers an event to a consumer only when its type is in the consumer's `eventTypes`: exact names, `prefix.*` " +
    'for a family, `*` for everything.',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  example: 'pipeline: [eventTypes, payloadFilter, script, standardWebhooks, schedule]',
  create: () => ({
    forConsumer(consumer) {
      const selects = compileEventTypeSelector(consumer.eventTypes);
      return (event) => selects(event.eventType);
    },
  }),
};
