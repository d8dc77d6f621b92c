/** An event catalog for the consumer API tests: one type with a schema and an example, two without. */
export const CATALOG = [
  {
    name: 'company.created',
    description: 'A company was created.',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    example: { name: 'Acme Ltd' },
  },
  { name: 'company.deleted', description: 'A company was deleted.' },
  { name: 'read.completed' },
];
