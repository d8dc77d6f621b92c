import type { ValidateFunction } from 'ajv';
import { compileEventSchemas, describeValidationError, describeValidationErrors } from '../../config/event-schemas.js';
import type { EventTypeConfig } from '../../config/schema.js';

/** Schema errors listed at most, beside the one-line reason. */
const MAX_LISTED_ERRORS = 100;

/** Why an event does not fit the catalog: a line for logs and dead letters, and each schema error. */
export interface EventRefusal {
  reason: string;
  /** `path`: a JSON pointer into the payload ("" for the payload itself). */
  errors: { path: string; message: string }[];
}

/** The event types of the config, with their payload schemas compiled once. */
export class EventCatalog {
  private readonly types: Map<string, EventTypeConfig>;
  private readonly validators: Map<string, ValidateFunction>;

  constructor(eventTypes: readonly EventTypeConfig[]) {
    this.types = new Map(eventTypes.map((t) => [t.name, t]));
    this.validators = compileEventSchemas(eventTypes);
  }

  has(eventType: string): boolean {
    return this.types.has(eventType);
  }

  get(eventType: string): EventTypeConfig | undefined {
    return this.types.get(eventType);
  }

  list(): EventTypeConfig[] {
    return [...this.types.values()];
  }

  /**
   * Null when an event of this type and payload may be ingested: its type is in the catalog (or
   * `unknownTypes` is deliver) and its payload fits the type's schema, if it has one. Ingest
   * dead-letters what this refuses; the API refuses it before publishing and before a redrive.
   */
  judge(eventType: string, payload: unknown, unknownTypes: 'reject' | 'deliver'): EventRefusal | null {
    if (!this.types.has(eventType)) {
      if (unknownTypes === 'deliver') return null;
      const reason =
        `unknown event type "${eventType}": it is not in eventTypes (set ingest.unknownTypes: deliver ` +
        `to accept unknown types)`;
      return { reason, errors: [] };
    }
    const validate = this.validators.get(eventType);
    if (validate === undefined || validate(payload)) return null;
    const found = validate.errors ?? [];
    return {
      reason: `payload does not match the schema of "${eventType}": ${describeValidationErrors(found)}`,
      errors: found
        .slice(0, MAX_LISTED_ERRORS)
        .map((error) => ({ path: error.instancePath, message: describeValidationError(error) })),
    };
  }
}
