/**
 * Codat's legacy rule types and the event types that replace them, as data: config/legacy-rules.yaml
 * holds the mapping with its sources, and this module reads it and answers "what replaces this
 * rule type?" for any of the spellings Codat used.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EVENT_TYPE_SELECTOR_PATTERN } from '../../config/schema.js';
import { compilePayloadFilter } from '../../plugins/payloadFilter.js';
import { HooksdError } from '../common/errors.js';

/**
 * The data file, next to the sources' config/ from daemon/main/ and copied to dist/config/ by
 * `npm run build`, so the same relative path works from the sources and from dist.
 */
export const LEGACY_RULES_FILE = fileURLToPath(new URL('../../config/legacy-rules.yaml', import.meta.url));

export interface RuleTypeMapping {
  /** The type as Codat's legacy rule list spells it. */
  type: string;
  aliases: string[];
  /** The replacement event types as Codat's guide names them (`{dataType}.write.successful`). */
  replacedBy: string[];
  /** What the consumer subscribes to. Empty for an unmapped type. */
  eventTypes: string[];
  /** The part of those event types the rule covered; `{}` for all of them. */
  filter: Record<string, unknown>;
  part?: string;
  companyIdPath: string;
  /** The events concern the whole client and carry no company. */
  clientWide: boolean;
  /** Why a known rule type cannot be migrated. */
  unmapped?: string;
}

export interface LegacyRuleMap {
  readonly types: readonly RuleTypeMapping[];
  /** The mapping of a rule type in any of its spellings, or undefined for a type Codat never had. */
  lookup(type: string): RuleTypeMapping | undefined;
}

/** Case, spaces and punctuation differ between Codat's spellings of one type ("Push Operation Status Changed()"). */
export function normalizeRuleType(type: string): string {
  return type.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function loadLegacyRuleMap(file: string = LEGACY_RULES_FILE): LegacyRuleMap {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HooksdError(
      'HOOKSD_INTERNAL',
      `cannot read the legacy rule mapping ${file}: ${(error as Error).message}`,
    );
  }
  const broken = (what: string) => new HooksdError('HOOKSD_INTERNAL', `${file}: ${what}`);
  if (!isRecord(data) || !Array.isArray(data.ruleTypes) || typeof data.companyIdPath !== 'string')
    throw broken('needs companyIdPath and a list of ruleTypes');
  const defaultCompanyPath = data.companyIdPath;
  const types = data.ruleTypes.map((entry, index) =>
    readMapping(entry, defaultCompanyPath, (what) => broken(`ruleTypes[${index}] ${what}`)),
  );
  const byName = new Map<string, RuleTypeMapping>();
  for (const mapping of types) {
    for (const name of [mapping.type, ...mapping.aliases]) {
      const key = normalizeRuleType(name);
      const other = byName.get(key);
      if (other !== undefined && other !== mapping) throw broken(`"${name}" names two rule types`);
      byName.set(key, mapping);
    }
  }
  return { types, lookup: (type) => byName.get(normalizeRuleType(type)) };
}

function readMapping(entry: unknown, defaultCompanyPath: string, broken: (what: string) => Error): RuleTypeMapping {
  if (!isRecord(entry) || typeof entry.type !== 'string') throw broken('needs a type');
  const strings = (key: string): string[] => {
    const value = entry[key] ?? [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
      throw broken(`${key} must be a list of strings`);
    return value;
  };
  const mapping: RuleTypeMapping = {
    type: entry.type,
    aliases: strings('aliases'),
    replacedBy: strings('replacedBy'),
    eventTypes: strings('eventTypes'),
    filter: isRecord(entry.filter) ? entry.filter : {},
    part: typeof entry.part === 'string' ? entry.part : undefined,
    companyIdPath: typeof entry.companyIdPath === 'string' ? entry.companyIdPath : defaultCompanyPath,
    clientWide: entry.clientWide === true,
    unmapped: typeof entry.unmapped === 'string' ? entry.unmapped : undefined,
  };
  if (mapping.unmapped !== undefined) return mapping;
  const selector = new RegExp(EVENT_TYPE_SELECTOR_PATTERN);
  if (mapping.eventTypes.length === 0 || !mapping.eventTypes.every((name) => selector.test(name)))
    throw broken('needs eventTypes that are event type selectors');
  if (mapping.replacedBy.length === 0) throw broken('needs replacedBy');
  // Merged rules add an eventType condition of their own to each branch; only `*` leaves it to the filter.
  if ('eventType' in mapping.filter && mapping.eventTypes.join() !== '*')
    throw broken('filters on eventType, so its eventTypes must be ["*"]');
  // A filter the payloadFilter plugin would refuse fails here, not in a user's config.
  compilePayloadFilter({ ...mapping.filter, [mapping.companyIdPath]: 'company' });
  return mapping;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
