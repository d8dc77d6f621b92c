/**
 * Envelopes shaped like Codat's new event types (as its migration guide shows them: the company at
 * payload.referenceCompany.id, read results in payload.dataTypes[], write results in
 * payload.status), and the routing of an envelope through migrated consumers by hooksd's own
 * plugins, for the migrate-rules tests.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { loadConfig } from '../../config/loader.js';
import { Pipeline } from '../../daemon/dispatch/pipeline.js';
import { tempDir } from './hooksd.js';

export const COMPANY_A = '8a210b68-6988-11ed-a1eb-0242ac120002';
export const COMPANY_B = '1f9559e7-8368-48c9-bdf4-f158e16b8b85';
export const OTHER_COMPANY = 'c3a6a1f2-5d7e-4b8a-9f10-2b3c4d5e6f70';

export interface Envelope {
  id: string;
  eventType: string;
  generatedDate: string;
  payload: Record<string, unknown>;
}

function envelope(eventType: string, payload: Record<string, unknown>): Envelope {
  return { id: randomUUID(), eventType, generatedDate: '2024-08-07T12:02:32.150Z', payload };
}

const referenceCompany = (company: string) => ({ id: company, name: 'Toft stores', links: {}, tags: {} });

export function connectionEvent(eventType: string, company: string): Envelope {
  const connection = { id: randomUUID(), integrationKey: 'gbol', platformName: 'Xero', status: 'Linked' };
  return envelope(eventType, { referenceCompany: referenceCompany(company), connection });
}

/** A read.completed (or read.completed.initial) with one entry per `[status, recordsModified]`. */
export function readEvent(company: string, dataTypes: [string, boolean][], eventType = 'read.completed'): Envelope {
  return envelope(eventType, {
    referenceCompany: referenceCompany(company),
    modifiedFromDate: '2024-08-06T12:00:00.000Z',
    dataTypes: dataTypes.map(([status, recordsModified]) => ({
      connectionId: randomUUID(),
      dataType: 'invoices',
      recordsModified,
      status,
    })),
  });
}

export function writeEvent(dataType: string, outcome: 'successful' | 'unsuccessful', status: string): Envelope {
  return envelope(`${dataType}.write.${outcome}`, {
    id: randomUUID(),
    type: 'Create',
    referenceCompany: referenceCompany(OTHER_COMPANY),
    connectionId: randomUUID(),
    status,
  });
}

export function expenseSyncEvent(outcome: 'successful' | 'unsuccessful', company: string): Envelope {
  return envelope(`expenses.sync.${outcome}`, { referenceCompany: referenceCompany(company), syncId: randomUUID() });
}

/** Codat's AccountCategoriesUpdated keeps the legacy body: the company at CompanyId. */
export function accountCategoriesEvent(company: string): Envelope {
  return envelope('AccountCategoriesUpdated', { CompanyId: company, Data: { modifiedDate: '2024-08-07T12:00:00Z' } });
}

export function rateLimitEvent(eventType: 'client.rateLimit.reached' | 'client.rateLimit.reset'): Envelope {
  return envelope(eventType, { dailyQuota: 1000, quotaRemaining: 0, expiryDate: '2024-08-08T00:00:00Z' });
}

/**
 * Loads `yaml` as hooks.config.yaml with the real loader and pipeline, and answers, for an
 * envelope, the URLs of the consumers that would get it (sorted).
 */
export async function router(t: Test, yaml: string): Promise<(event: Envelope) => string[]> {
  const file = path.join(tempDir(t, 'migrate'), 'hooks.config.yaml');
  writeFileSync(file, yaml);
  const config = loadConfig(file);
  const pipeline = await Pipeline.load(config, file);
  t.teardown(() => pipeline.stop());
  const consumers = config.consumers.map((consumer) => ({ url: consumer.url, route: pipeline.forConsumer(consumer) }));
  return (event) =>
    consumers
      .filter(({ route }) => route.matchesType(event.eventType) && route.accepts(event))
      .map(({ url }) => url)
      .sort();
}
