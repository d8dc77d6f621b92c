import { decodeCursor, encodeCursor, type Page } from '../store/lists.js';

/**
 * A page of an in-memory list with unique keys: sorted by key, continuing after the cursor's
 * key, so a walk stays right while entries come and go.
 */
export function pageByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  query: { limit: number; cursor?: string },
): Page<T> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rest = items
    .filter((item) => after === undefined || keyOf(item) > after)
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  const data = rest.slice(0, query.limit);
  return { data, nextCursor: rest.length > query.limit ? encodeCursor(keyOf(data[data.length - 1])) : null };
}
