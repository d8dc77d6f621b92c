import t from 'tap';
import { compileEventSchemas, describeValidationErrors, EventSchemaCompileError } from '../../config/event-schemas.js';

const connectionSchema = {
  type: 'object',
  required: ['connection'],
  properties: {
    connection: {
      type: 'object',
      required: ['id', 'status'],
      properties: { id: { type: 'string', format: 'uuid' }, status: { enum: ['PendingAuth', 'Linked'] } },
    },
    generatedDate: { type: 'string', format: 'date-time' },
  },
};

t.test('event schemas - compile draft-07 by default and check uuid and date-time formats', async (t) => {
  const validate = compileEventSchemas([{ name: 'connection.created', description: '', schema: connectionSchema }]).get(
    'connection.created',
  );
  if (!validate) throw new Error('no validator');
  t.ok(
    validate({
      connection: { id: '51baa045-4836-4317-a42e-3542e991e581', status: 'Linked' },
      generatedDate: '2024-05-13T09:21:47Z',
    }),
  );
  t.notOk(validate({ connection: { id: 'not-a-uuid', status: 'Linked' }, generatedDate: 'yesterday' }));
  t.equal(
    describeValidationErrors(validate.errors),
    'payload/connection/id: must match format "uuid"; payload/generatedDate: must match format "date-time"',
  );
});

t.test('event schemas - select draft 2020-12 when $schema names it', async (t) => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { pair: { type: 'array', prefixItems: [{ format: 'uuid' }, { format: 'date-time' }], items: false } },
  };
  const validate = compileEventSchemas([{ name: 'pair.made', description: '', schema }]).get('pair.made');
  if (!validate) throw new Error('no validator');
  t.ok(validate({ pair: ['51baa045-4836-4317-a42e-3542e991e581', '2024-05-13T09:21:47Z'] }));
  t.notOk(validate({ pair: ['2024-05-13T09:21:47Z', '51baa045-4836-4317-a42e-3542e991e581'] }));
  t.notOk(validate({ pair: ['51baa045-4836-4317-a42e-3542e991e581', '2024-05-13T09:21:47Z', 'extra'] }));

  // Without $schema the same schema is draft-07, where prefixItems is not a keyword.
  const { $schema: _draft, ...draft07 } = schema;
  t.throws(
    () => compileEventSchemas([{ name: 'pair.made', description: '', schema: draft07 }]),
    /unknown keyword: "prefixItems"/,
  );
});

t.test('event schemas - list every schema that does not compile', async (t) => {
  const error = t.throws(() =>
    compileEventSchemas([
      { name: 'a.ok', description: '', schema: connectionSchema },
      { name: 'b.typo', description: '', schema: { type: 'object', requird: ['id'] } },
      { name: 'c.dialect', description: '', schema: { $schema: 'https://json-schema.org/draft/2019-09/schema' } },
      { name: 'd.format', description: '', schema: { type: 'string', format: 'postcode' } },
    ]),
  ) as EventSchemaCompileError;
  t.type(error, EventSchemaCompileError);
  t.same(
    error.failures.map(({ index, eventType }) => [index, eventType]),
    [
      [1, 'b.typo'],
      [2, 'c.dialect'],
      [3, 'd.format'],
    ],
  );
  t.match(error.failures[1].message, /unsupported \$schema/);
  t.match(error.failures[2].message, /unknown format "postcode"/);
});

t.test('event schemas - leave out event types without a schema', async (t) => {
  const validators = compileEventSchemas([{ name: 'anything.goes', description: '' }]);
  t.equal(validators.size, 0);
});

t.test('event schemas - a reloaded catalog may reuse its $ids', async (t) => {
  const eventTypes = [{ name: 'a.b', description: '', schema: { $id: 'https://example.com/a.b', type: 'object' } }];
  compileEventSchemas(eventTypes);
  t.doesNotThrow(() => compileEventSchemas(eventTypes));
});

t.test('validation reasons - one line naming each path, the allowed values and extra properties', async (t) => {
  const validate = compileEventSchemas([
    { name: 'x', description: '', schema: { ...connectionSchema, additionalProperties: false } },
  ]).get('x');
  if (!validate) throw new Error('no validator');
  validate({ connection: { status: 'Gone' }, extra: 1 });
  t.equal(
    describeValidationErrors(validate.errors),
    `payload: must NOT have additional properties ("extra"); payload/connection: must have required property 'id'; ` +
      `payload/connection/status: must be one of "PendingAuth", "Linked"`,
  );
  t.equal(describeValidationErrors(null), 'payload: is invalid');
});
