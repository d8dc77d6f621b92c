/** Shared by the payload filter tests: a sample envelope, and compiling a filter for a verdict or its error. */
import { FilterError, compilePayloadFilter } from '../../plugins/payloadFilter.js';

/** The envelope most payload filter tests run against. */
export const event = {
  id: 'evt_1',
  eventType: 'read.completed',
  generatedDate: '2024-05-14T11:02:13Z',
  payload: {
    amount: 10,
    text: '10',
    currency: 'GBP',
    approved: true,
    note: null,
    referenceCompany: { id: 'cmp_1', tags: { region: 'us', tier: 'gold' } },
    tags: ['alpha', 'beta'],
    lines: [
      { amount: 5, sku: 'A-1' },
      { amount: 500, sku: 'B-2' },
    ],
    orders: [{ lines: [{ amount: 1 }, { amount: 2 }] }, { lines: [{ amount: 300, sku: 'Z-9' }] }],
    matrix: [[1, 2], [3]],
  },
};

export function matches(filter: Record<string, unknown>, envelope: unknown = event): boolean {
  return compilePayloadFilter(filter)(envelope);
}

/** The FilterError that compiling `filter` throws. */
export function compileError(filter: Record<string, unknown>): FilterError {
  try {
    compilePayloadFilter(filter);
  } catch (error) {
    if (error instanceof FilterError) return error;
    throw error;
  }
  throw new Error(`expected a FilterError for ${JSON.stringify(filter)}`);
}
