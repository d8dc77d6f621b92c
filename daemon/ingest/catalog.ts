import type { ValidateFunction } from 'ajv';
import { compileEventSchemas, describeValidationErrors } from '../../config/event-schemas.js';
import type { EventTypeConfig } from '../../config/schema.js';

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

  /** Null when the payload fits the type's schema (or the type has none), else why not. */
  check(eventType: string, payload: unknown): string | null {
    const validate = this.validators.get(eventType);
    if (validate === undefined || validate(payload)) return null;
    return describeValidationErrors(validate.errors);
  }
}
