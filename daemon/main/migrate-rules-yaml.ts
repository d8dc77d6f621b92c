/**
 * The YAML `hooksd migrate-rules` writes: a `consumers:` block for hooks.config.yaml, with
 * comments saying where each consumer came from, which catalog entries it needs, and what could
 * not be migrated.
 */
import { Document, isNode, isScalar, isSeq, visit } from 'yaml';
import type { MigratedConsumer, MigratedRule, Migration } from './migrate-rules.js';

const GUIDE = 'https://docs.codat.io/using-the-api/webhooks/migrating-to-new-event-types';
const LINE_WIDTH = 96;
const FLOW_WIDTH = 72;

/** The consumer as hooks.config.yaml takes it. */
export function consumerConfig(consumer: MigratedConsumer): Record<string, unknown> {
  const { id, url, description, eventTypes, filter } = consumer;
  return { id, url, description, eventTypes, ...(filter === undefined ? {} : { filter }) };
}

export function renderMigration(migration: Migration, source: string): string {
  const doc = new Document({
    consumers: migration.consumers.map((consumer) => escapeEnvironment(consumerConfig(consumer))),
  });
  doc.commentBefore = commentText(header(migration, source));
  const consumers = doc.get('consumers', true);
  if (isSeq(consumers)) {
    consumers.items.forEach((item, index) => {
      if (isNode(item)) item.commentBefore = commentText(migration.consumers[index].rules.flatMap(ruleLines));
    });
  }
  // Short lists of names read best on one line, as in the shipped hooks.config.yaml.
  visit(doc, {
    Seq(_key, node) {
      const names = node.items.map((item) => (isScalar(item) ? String(item.value) : undefined));
      if (names.every((name) => name !== undefined) && names.join(', ').length <= FLOW_WIDTH) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

function header(migration: Migration, source: string): string[] {
  const { ruleCount, consumers, unmapped, emailed, catalog, families } = migration;
  const lines = [
    `hooksd consumers migrated from Codat's legacy rules: hooksd migrate-rules ${source}`,
    `${plural(ruleCount, 'rule')} in, ${plural(consumers.length, 'consumer')} out, ` +
      `${plural(unmapped.length, 'rule')} not migrated.`,
    '',
    "The mapping is config/legacy-rules.yaml, after Codat's guide to its new event types:",
    `  ${GUIDE}`,
    'Paste the consumers into hooks.config.yaml. hooksd generates each one a signing secret, shown by',
    'POST /v1/consumers/ID/secret/rotate; or give each a secret: of your own.',
  ];
  const companyPaths = unique(
    consumers
      .flatMap((consumer) => consumer.rules)
      .filter((rule) => rule.company !== undefined)
      .map((rule) => rule.mapping.companyIdPath),
  );
  if (companyPaths.length > 0) {
    lines.push("Company filters look for the company id where Codat's new event types carry it:");
    lines.push(`  ${companyPaths.join(', ')} (events of another shape need other paths)`);
  }
  if (catalog.length + families.length > 0) {
    lines.push('', 'The event catalog (eventTypes: in hooks.config.yaml) needs these types, or set');
    lines.push('ingest.unknownTypes: deliver:', ...wrapNames(catalog, '  '));
    if (families.length > 0)
      lines.push(`  and, for each data type you write (invoices, bills, ...): ${families.join(', ')}`);
  }
  if (emailed.length > 0) {
    lines.push('', 'Email notifiers, which hooksd cannot deliver (see the warnings and docs/migrate-rules.md):');
    for (const rule of emailed) lines.push(`  rule ${rule.label} "${rule.type}": ${rule.emails.join(', ')}`);
  }
  if (unmapped.length > 0) {
    lines.push('', 'Not migrated:');
    for (const rule of unmapped)
      lines.push(`  rule ${rule.label}${rule.type ? ` "${rule.type}"` : ''}: ${rule.reason}`);
  }
  return lines;
}

/**
 * `rule r4 "Dataset data changed", every company:`, then what replaces it and the part it covers:
 * `  read.completed, only when a data type's records changed (recordsModified is true)`.
 */
function ruleLines(rule: MigratedRule): string[] {
  const { label, type, company, mapping } = rule;
  const scope = company === undefined ? 'every company' : `company ${company}`;
  const replacements = wrapNames(mapping.replacedBy, '  ');
  if (mapping.part !== undefined) replacements[replacements.length - 1] += `, ${mapping.part}`;
  return [`rule ${label} "${type}", ${scope}:`, ...replacements];
}

/** Names joined by commas, over as many lines as they need. */
function wrapNames(names: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const name of names) {
    const next = line === '' ? `${indent}${name}` : `${line}, ${name}`;
    if (next.length > LINE_WIDTH && line !== '') {
      lines.push(`${line},`);
      line = `${indent}${name}`;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * yaml writes each line of a comment after a `#`; the space keeps them readable. Text from the
 * export may hold line breaks or other control characters: they become spaces, so it stays in
 * its comment line.
 */
function commentText(lines: readonly string[]): string {
  const printable = (line: string) => [...line].map((char) => (char < ' ' || char === '\x7f' ? ' ' : char)).join('');
  return lines.map((line) => (line === '' ? '' : ` ${printable(line)}`)).join('\n');
}

/** The loader reads `${NAME}` in any string as an environment variable; `$${NAME}` is the text itself. */
function escapeEnvironment<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\$(?=\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\})/g, '$$$$') as T;
  if (Array.isArray(value)) return value.map(escapeEnvironment) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeEnvironment(item)])) as T;
  return value;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
