import t from 'tap';
import fc from 'fast-check';
import { cutPage, mergePages } from '../../../daemon/api/merge-pages.js';
import { decodeCursor, encodeCursor, type KeyedPage } from '../../../daemon/store/lists.js';

/**
 * The merge of the group's pages: walking a list through one instance, page after page, meets
 * every record of every instance once and in order, whatever the pages' sizes, however short
 * an instance's page is (filters rejecting most of what it read).
 */

interface Entry {
  key: string;
  /** Whether the list's filters take it. */
  matches: boolean;
}

/**
 * One instance's page as store/lists.ts reads it: newest first, after the cursor, at most
 * `limit` records and at most `scanCap` entries read; its cursor is the last key read, or null
 * when nothing is left.
 */
function localPage(entries: Entry[], cursor: string | null, limit: number, scanCap: number): KeyedPage<string> {
  const after = cursor === null ? undefined : decodeCursor(cursor);
  const rest = entries.filter((e) => after === undefined || e.key < after);
  const page: KeyedPage<string> = { data: [], keys: [], nextCursor: null };
  let scanned = 0;
  for (const entry of rest) {
    if (page.data.length === limit || scanned === scanCap) return page;
    scanned += 1;
    page.nextCursor = encodeCursor(entry.key);
    if (entry.matches) {
      page.data.push(entry.key);
      page.keys.push(entry.key);
    }
  }
  return { ...page, nextCursor: null };
}

const entry = fc.record({ key: fc.string({ minLength: 1, maxLength: 4 }), matches: fc.boolean() });
/** Up to four instances' entries, newest first; keys are unique across instances (ids carry a random part). */
const instances = fc
  .array(fc.uniqueArray(entry, { selector: (e) => e.key }), { minLength: 1, maxLength: 4 })
  .map((lists) =>
    lists.map((list, i) => list.map((e) => ({ ...e, key: `${e.key}~${i}` })).sort((a, b) => (a.key < b.key ? 1 : -1))),
  );

t.test('merge pages - a walk meets every matching record once, newest first', async (t) => {
  fc.assert(
    fc.property(instances, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), (lists, limit, cap) => {
      const expected = lists
        .flat()
        .filter((e) => e.matches)
        .map((e) => e.key)
        .sort()
        .reverse();
      const walked: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; ; pages++) {
        if (pages > 1000) throw new Error('the walk does not end');
        const merged = mergePages(
          lists.map((entries) => localPage(entries, cursor, limit, cap * limit)),
          limit,
        );
        if (merged.data.length > limit) throw new Error('a page longer than its limit');
        walked.push(...merged.data);
        if (merged.nextCursor === null) break;
        if (cursor !== null && decodeCursor(merged.nextCursor) >= decodeCursor(cursor))
          throw new Error('the cursor did not move on');
        cursor = merged.nextCursor;
      }
      t.same(walked, expected);
      return true;
    }),
    { numRuns: 500 },
  );
});

t.test('merge pages - a page of the group is full when the instances have enough', async (t) => {
  const page = (keys: string[], more: boolean): KeyedPage<string> => ({
    data: keys,
    keys,
    nextCursor: more ? encodeCursor(keys[keys.length - 1]) : null,
  });
  const merged = mergePages([page(['m9', 'm5', 'm1'], true), page(['m8', 'm7', 'm2'], true)], 3);
  t.same(merged.data, ['m9', 'm8', 'm7'], 'the newest three of both');
  t.equal(decodeCursor(merged.nextCursor!), 'm7', 'the cursor is the last key shown');
  const short = mergePages([page(['m9'], true), page(['m8', 'm7', 'm2'], false)], 3);
  t.same(short.data, ['m9'], 'only what every page covers: the first instance read no further than m9');
  t.equal(decodeCursor(short.nextCursor!), 'm9');
  t.same(mergePages([page([], false), page([], false)], 3), { data: [], nextCursor: null }, 'nothing anywhere');
});

t.test('cut page - fewer records, the cursor after the last one kept', async (t) => {
  const keys = ['k5', 'k4', 'k3'];
  const cut = cutPage({ data: ['a', 'b', 'c'], keys, nextCursor: null }, 2);
  t.same(cut.data, ['a', 'b']);
  t.equal(decodeCursor(cut.nextCursor!), 'k4');
});
