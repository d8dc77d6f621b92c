/**
 * The clauses of one consumer, each "these event types, this part of them, these companies", and
 * how several merge without changing which events get through: the consumer delivers an event
 * when any clause holds, so every step below keeps that union the same.
 */

export interface Clause<R> {
  /** Exact event type names, or `['*']` when `condition` selects the types itself. */
  types: string[];
  /** The part of those types covered, as payloadFilter conditions that must all hold; `{}` for all. */
  condition: Record<string, unknown>;
  /** Limited to these companies (any of them), found at `path`; undefined for every company. */
  company?: { path: string; ids: string[] };
  /** Where the clause came from, for the comments of the output. */
  rules: R[];
}

/**
 * Merges until nothing changes: clauses alike but for their types take the union of the types,
 * clauses alike but for their companies the union of the companies, and a clause that another
 * one covers (all its types, a condition at least as narrow, its companies) goes, its rules
 * joining the wider clause. The first clause's place is kept, so the output follows the export.
 */
export function mergeClauses<R>(clauses: readonly Clause<R>[]): Clause<R>[] {
  let current = [...clauses];
  for (;;) {
    const next = dropCovered(mergeBy(mergeBy(current, typesKey, joinTypes), companiesKey, joinCompanies));
    if (next.length === current.length) return next;
    current = next;
  }
}

/** Alike but for the types: same condition, same companies. */
function typesKey<R>(clause: Clause<R>): string {
  return canonical([clause.condition, clause.company?.path ?? null, [...(clause.company?.ids ?? [])].sort()]);
}

/** Alike but for the companies: same types, same condition, companies at the same path (not every company). */
function companiesKey<R>(clause: Clause<R>): string | undefined {
  if (clause.company === undefined) return undefined;
  return canonical([[...clause.types].sort(), clause.condition, clause.company.path]);
}

function joinTypes<R>(into: Clause<R>, from: Clause<R>): void {
  into.types = into.types.includes('*') || from.types.includes('*') ? ['*'] : unique([...into.types, ...from.types]);
}

function joinCompanies<R>(into: Clause<R>, from: Clause<R>): void {
  if (into.company && from.company) into.company.ids = unique([...into.company.ids, ...from.company.ids]);
}

function mergeBy<R>(
  clauses: readonly Clause<R>[],
  keyOf: (clause: Clause<R>) => string | undefined,
  join: (into: Clause<R>, from: Clause<R>) => void,
): Clause<R>[] {
  const merged: Clause<R>[] = [];
  const byKey = new Map<string, Clause<R>>();
  for (const clause of clauses) {
    const key = keyOf(clause);
    const into = key === undefined ? undefined : byKey.get(key);
    if (into === undefined) {
      const copy = copyClause(clause);
      merged.push(copy);
      if (key !== undefined) byKey.set(key, copy);
    } else {
      join(into, clause);
      into.rules.push(...clause.rules);
    }
  }
  return merged;
}

function dropCovered<R>(clauses: readonly Clause<R>[]): Clause<R>[] {
  const kept = [...clauses];
  for (const clause of clauses) {
    const wider = kept.find((other) => other !== clause && covers(other, clause));
    if (wider === undefined) continue;
    wider.rules.push(...clause.rules);
    kept.splice(kept.indexOf(clause), 1);
  }
  return kept;
}

/** Whether every event `narrow` lets through, `wide` lets through too. */
export function covers<R>(wide: Clause<R>, narrow: Clause<R>): boolean {
  const types = wide.types.includes('*') || narrow.types.every((type) => wide.types.includes(type));
  if (!types) return false;
  // Conditions are conjunctions: one with fewer of the same conditions is wider.
  const condition = Object.entries(wide.condition).every(
    ([path, operand]) =>
      Object.hasOwn(narrow.condition, path) && canonical(narrow.condition[path]) === canonical(operand),
  );
  if (!condition) return false;
  if (wide.company === undefined) return true;
  return (
    narrow.company !== undefined &&
    narrow.company.path === wide.company.path &&
    narrow.company.ids.every((id) => wide.company?.ids.includes(id))
  );
}

function copyClause<R>(clause: Clause<R>): Clause<R> {
  return {
    types: [...clause.types],
    condition: clause.condition,
    company: clause.company === undefined ? undefined : { path: clause.company.path, ids: [...clause.company.ids] },
    rules: [...clause.rules],
  };
}

/** JSON with object keys sorted, so equal conditions written in another key order compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
