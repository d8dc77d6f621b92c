import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** One time format in every answer: ISO 8601 in UTC with milliseconds. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Fields that hold a time, by name. */
export const TIME_FIELD = /(At|^at|^from|^to|^generatedDate|^since|^until|^failingSince)$/;
/** Fields whose content is the publisher's or the consumer's, shown as it is: their times are not the API's. */
const VERBATIM = new Set(['envelope', 'payload', 'example', 'schema', 'headers', 'body', 'details']);

const BASE = 'https://hooksd.test/openapi.json';

/**
 * Checks answers against the response schemas of an /openapi.json document: the schema of
 * the operation's answer for that status (or its `default`), `$ref`s resolved in the document.
 */
export class AnswerChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });

  constructor(private readonly document: any) {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...structuredClone(document), $id: BASE });
  }

  /** Why `body` is not what the document says `method path` answers with `status`, or null when it is. */
  problems(method: string, path: string, status: number, body: unknown): string | null {
    const operation = this.document.paths[path]?.[method];
    if (operation === undefined) return `no operation ${method} ${path}`;
    let response = operation.responses[String(status)];
    if (response === undefined && status >= 500) response = operation.responses.default;
    if (response === undefined) return `${method} ${path} does not say it answers ${status}`;
    if (response.$ref !== undefined) response = this.document.components.responses[response.$ref.split('/').pop()];
    const content = response.content;
    if (content === undefined) return body === undefined ? null : `${status} is said to have no body`;
    const schema = (content['application/json'] ?? content['text/plain']).schema;
    const validate = this.ajv.compile(rebased(schema));
    return validate(body) ? null : this.ajv.errorsText(validate.errors, { dataVar: 'answer' });
  }
}

/** `#/components/...` refs of a schema taken out of the document, pointed back into it. */
function rebased(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(rebased);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#') ? BASE + value : rebased(value),
    ]),
  );
}

/** Time fields of an answer that are not in the one format, as `path: value`. */
export function timesOutOfFormat(value: unknown, path = 'answer'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => timesOutOfFormat(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, field]) => {
    if (VERBATIM.has(key)) return [];
    if (TIME_FIELD.test(key) && field !== null && !(typeof field === 'string' && ISO_MS.test(field)))
      return [`${path}.${key}: ${JSON.stringify(field)}`];
    return timesOutOfFormat(field, `${path}.${key}`);
  });
}
