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
