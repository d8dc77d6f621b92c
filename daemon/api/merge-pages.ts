import { decodeCursor, encodeCursor, type KeyedPage, type Page } from '../store/lists.js';

/**
 * One page of a list out of the pages of the same list (same filters, same cursor) from every
 * instance of a group, newest first. Each instance's page holds all its records from the cursor
 * down to the last key it read (its `nextCursor`), or all of them when it has no more. Only keys
 * that every page covers are certain, so the merged page stops at the highest of those last
 * keys; its cursor is the last key it shows (or that bound), and every instance goes on after
 * it: a walk meets each record once, without a gap. Keys of different instances differ (ids
 * carry a random part), so the order is total.
 */
export function mergePages<T>(pages: readonly KeyedPage<T>[], limit: number): Page<T> {
  let bound: string | null = null;
  for (const page of pages) {
    if (page.nextCursor === null) continue;
    const last = decodeCursor(page.nextCursor);
    if (bound === null || last > bound) bound = last;
  }
  const entries = pages
    .flatMap((page) => page.data.map((item, i) => ({ item, key: page.keys[i] })))
    .filter((entry) => bound === null || entry.key >= bound)
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const kept = entries.slice(0, limit);
  const data = kept.map((entry) => entry.item);
  if (entries.length > limit) return { data, nextCursor: encodeCursor(kept[kept.length - 1].key) };
  return { data, nextCursor: bound === null ? null : encodeCursor(bound) };
}

/** A page cut to its first `count` records, its cursor after the last one kept: what a smaller page would be. */
export function cutPage<T>(page: KeyedPage<T>, count: number): KeyedPage<T> {
  if (count >= page.data.length || count < 1) return page;
  return {
    data: page.data.slice(0, count),
    keys: page.keys.slice(0, count),
    nextCursor: encodeCursor(page.keys[count - 1]),
  };
}
