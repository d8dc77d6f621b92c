/**
 * How deep JSON may nest in an event or a request body. Real payloads stay far below it, while
 * JSON.stringify, schema validation and filters walk values recursively and run out of stack
 * some thousands of levels down (JSON.parse itself reads 50,000 levels without complaint).
 */
export const MAX_JSON_DEPTH = 100;

/** Whether arrays and objects nest more than `max` levels deep in `value`; walks it without recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth === max) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
