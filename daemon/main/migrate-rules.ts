/**
 * Turns an export of Codat's legacy rules (`{id, type, companyId?, notifiers: {emails?, webhook?}}`)
 * into hooksd consumers: each rule becomes a clause (event types, the part of them it covered, its
 * company), and the clauses of one URL merge into one consumer. One consumer per URL, because
 * one endpoint verifies one signing secret, and because an event two rules both cover is then
 * delivered once.
 */
import type { LegacyRuleMap, RuleTypeMapping } from './legacy-rules.js';
import { mergeClauses, type Clause } from './rule-clauses.js';

export interface MigratedRule {
  /** The rule's id, or `#N` (its place in the export) when it has none. */
  label: string;
  type: string;
  company?: string;
  mapping: RuleTypeMapping;
  /** Its position in the export, for a stable order. */
  index: number;
}

export interface MigratedConsumer {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  filter?: Record<string, unknown>;
  rules: MigratedRule[];
}

export interface UnmappedRule {
  label: string;
  type?: string;
  reason: string;
}

export interface EmailedRule {
  label: string;
  type: string;
  emails: string[];
}

export interface Migration {
  ruleCount: number;
  consumers: MigratedConsumer[];
  unmapped: UnmappedRule[];
  /** Rules with email notifiers, which hooksd cannot deliver. */
  emailed: EmailedRule[];
  /** Event types the consumers receive, by exact name: the catalog needs them. */
  catalog: string[];
  /** Event type families named per data type (`{dataType}.write.successful`). */
  families: string[];
}

/** The rules of an export: a list, or Codat's paged answer of GET /rules (`{results: [...]}`). */
export function rulesOfExport(data: unknown): unknown[] | undefined {
  if (Array.isArray(data)) return data;
  if (isRecord(data) && Array.isArray(data.results)) return data.results;
  return undefined;
}

export function migrateRules(rules: readonly unknown[], map: LegacyRuleMap): Migration {
  const unmapped: UnmappedRule[] = [];
  const emailed: EmailedRule[] = [];
  const byUrl = new Map<string, Clause<MigratedRule>[]>();
  rules.forEach((raw, index) => {
    const read = readRule(raw, index, map);
    if ('reason' in read) {
      unmapped.push(read);
      return;
    }
    const { rule, emails, webhook } = read;
    if (emails.length > 0) emailed.push({ label: rule.label, type: rule.type, emails });
    if (webhook === undefined) return;
    const clauses = byUrl.get(webhook) ?? [];
    clauses.push(clauseOf(rule));
    byUrl.set(webhook, clauses);
  });

  const taken = new Set<string>();
  const consumers = [...byUrl].map(([url, clauses]) => consumerOf(url, mergeClauses(clauses), taken));
  const replacements = consumers.flatMap((consumer) => consumer.rules.flatMap((rule) => rule.mapping.replacedBy));
  return {
    ruleCount: rules.length,
    consumers,
    unmapped,
    emailed,
    catalog: unique(replacements.filter((name) => !name.includes('{'))),
    families: unique(replacements.filter((name) => name.includes('{'))),
  };
}

type ReadRule = UnmappedRule | { rule: MigratedRule; emails: string[]; webhook?: string };

function readRule(raw: unknown, index: number, map: LegacyRuleMap): ReadRule {
  const label = isRecord(raw) && typeof raw.id === 'string' && raw.id !== '' ? raw.id : `#${index + 1}`;
  if (!isRecord(raw)) return { label, reason: 'is not an object' };
  const type = typeof raw.type === 'string' ? raw.type.trim() : '';
  if (type === '') return { label, reason: 'has no type' };
  const failed = (reason: string): UnmappedRule => ({ label, type, reason });
  const mapping = map.lookup(type);
  if (mapping === undefined)
    return failed("is not one of Codat's legacy rule types (docs/migrate-rules.md lists them)");
  if (mapping.unmapped !== undefined) return failed(mapping.unmapped);

  const companyId = raw.companyId ?? undefined;
  if (companyId !== undefined && (typeof companyId !== 'string' || companyId.trim() === ''))
    return failed('has a companyId that is not a string');
  const company = companyId?.trim();
  if (company !== undefined && mapping.clientWide) {
    return failed(
      `is limited to company ${company}, but ${mapping.replacedBy.join(' and ')} concern the whole Codat client ` +
        'and carry no company; remove its companyId to receive them',
    );
  }

  const notifiers = raw.notifiers ?? {};
  if (!isRecord(notifiers)) return failed('has notifiers that are not an object');
  const emails = emailsOf(notifiers.emails);
  if (emails === undefined) return failed('has emails that are not a list of addresses');
  const rule: MigratedRule = { label, type, company, mapping, index };
  const webhook = notifiers.webhook ?? undefined;
  if (webhook === undefined || webhook === '') {
    if (emails.length > 0) return { rule, emails };
    return failed('has no webhook and no emails: its alerts were only shown in the Codat Portal');
  }
  const url = typeof webhook === 'string' ? httpUrl(webhook.trim()) : undefined;
  if (url === undefined) return failed('has a webhook that is not an http:// or https:// URL');
  return { rule, emails, webhook: url };
}

/** Codat's API takes a list; its Portal, a comma-separated string. */
function emailsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) return undefined;
  return list.map((item) => item.trim()).filter((item) => item !== '');
}

function httpUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function clauseOf(rule: MigratedRule): Clause<MigratedRule> {
  const { mapping } = rule;
  return {
    types: mapping.eventTypes.includes('*') ? ['*'] : [...mapping.eventTypes],
    condition: mapping.filter,
    company: rule.company === undefined ? undefined : { path: mapping.companyIdPath, ids: [rule.company] },
    rules: [rule],
  };
}

function consumerOf(url: string, clauses: Clause<MigratedRule>[], taken: Set<string>): MigratedConsumer {
  const wildcard = clauses.some((clause) => clause.types.includes('*'));
  const eventTypes = wildcard ? ['*'] : unique(clauses.flatMap((clause) => clause.types));
  const branches = clauses.map((clause) => branchFilter(clause, eventTypes));
  const filter =
    branches.length > 1 ? { $or: branches } : Object.keys(branches[0]).length > 0 ? branches[0] : undefined;
  const rules = clauses.flatMap((clause) => clause.rules).sort((a, b) => a.index - b.index);
  const labels = rules.map((rule) => rule.label).join(', ');
  return {
    id: consumerId(new URL(url), taken),
    url,
    description: `Migrated from legacy Codat rule${rules.length === 1 ? '' : 's'} ${labels}`,
    eventTypes,
    ...(filter === undefined ? {} : { filter }),
    rules,
  };
}

/**
 * The filter of one clause within its consumer: its own event types when the consumer receives
 * more, then the part of them the rule covered, then its companies.
 */
function branchFilter(clause: Clause<MigratedRule>, consumerTypes: readonly string[]): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const ownTypes = clause.types.includes('*') || sameSet(clause.types, consumerTypes);
  if (!ownTypes) filter.eventType = clause.types.length === 1 ? clause.types[0] : { $in: clause.types };
  Object.assign(filter, clause.condition);
  if (clause.company !== undefined) {
    const { path, ids } = clause.company;
    filter[path] = ids.length === 1 ? ids[0] : { $in: ids };
  }
  return filter;
}

/** A readable id from the URL's host and path (`hooks.example.com-codat`), unique among the consumers made. */
function consumerId(url: URL, taken: Set<string>): string {
  const text = `${url.hostname}${url.port === '' ? '' : `-${url.port}`}${url.pathname}`;
  const base =
    text
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 60)
      .replace(/[-_.]+$/, '') || 'legacy';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
