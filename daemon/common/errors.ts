/**
 * Every error a user can see: a stable code, the HTTP status the API answers with, and what
 * it means. docs/errors.md is kept in step with this list by a test.
 */
export const ERROR_CODES = {
  HOOKSD_CONFIG_INVALID: {
    status: 500,
    meaning: 'The configuration file has problems; each is listed with FILE:LINE:COLUMN.',
  },
  HOOKSD_USAGE: {
    status: 400,
    meaning:
      'The command line is wrong: an unknown command or option, a missing argument, an unreadable file; ' +
      '`hooksd` exits 2.',
  },
  HOOKSD_CONFIG_UNREADABLE: { status: 500, meaning: 'The configuration file could not be read.' },
  HOOKSD_PLUGIN_INVALID: {
    status: 500,
    meaning:
      'A plugin failed to load, its options failed its schema, or it refused a consumer setting (a bad filter or ' +
      'transform); the message names the plugin and its place in the YAML.',
  },
  HOOKSD_NATS_SERVER_MISSING: {
    status: 500,
    meaning: 'No nats.servers are configured and the nats-server binary is not installed.',
  },
  HOOKSD_EVENT_INVALID: {
    status: 400,
    meaning:
      'An event that cannot be delivered (not JSON, nested deeper than 100 levels, no payload, a bad id, type or ' +
      'date): ingest keeps it in the dead-letter log with this message as its reason.',
  },
  HOOKSD_STORAGE_UNAVAILABLE: {
    status: 503,
    meaning:
      'The store (LevelDB under storage.path) cannot be opened or written: in use by another process, damaged, or ' +
      'its disk full; the message names the path, the cause and what to do. Writes that fail are retried by ' +
      'themselves once the store works again.',
  },
  HOOKSD_NATS_UNAVAILABLE: {
    status: 503,
    meaning:
      'NATS could not be reached or did not start, or its control bucket (nats.controlBucket) could not be opened ' +
      'or written: a change to consumers, their state or secrets waits until it can be.',
  },
  HOOKSD_UNAUTHORIZED: { status: 401, meaning: 'The request has no valid bearer token.' },
  HOOKSD_FORBIDDEN: { status: 403, meaning: 'The token lacks the scope this route needs.' },
  HOOKSD_INVALID_REQUEST: {
    status: 400,
    meaning: 'The query string or body failed validation; details lists each problem.',
  },
  HOOKSD_INVALID_CURSOR: { status: 400, meaning: 'The pagination cursor is not one this API issued.' },
  HOOKSD_NOT_FOUND: { status: 404, meaning: 'No record has this id.' },
  HOOKSD_OWNER_UNAVAILABLE: {
    status: 503,
    meaning:
      'In a group of instances: the record was not found on the live instances, and the instance that owns it (named ' +
      'by the tag in its id) is not live, or an instance did not answer in time; try again once it is back.',
  },
  HOOKSD_CONSUMER_READ_ONLY: {
    status: 409,
    meaning:
      'The consumer comes from hooks.config.yaml: change it there (enable, disable and secret rotation work for ' +
      'every consumer).',
  },
  HOOKSD_CONSUMER_EXISTS: {
    status: 409,
    meaning: 'A consumer with this id already exists (in the config file or created through the API).',
  },
  HOOKSD_CONSUMER_DISABLED: { status: 409, meaning: 'The consumer is disabled: enable it first.' },
  HOOKSD_MESSAGE_BUSY: {
    status: 409,
    meaning: 'The message is being attempted or waits in the queue right now; try again when it is done.',
  },
  HOOKSD_MESSAGE_NOT_PENDING: {
    status: 409,
    meaning:
      'Only a message waiting for a scheduled attempt (status sending or attempting, with a next attempt due) can ' +
      'be cancelled; this one has ended or waits for nothing.',
  },
  HOOKSD_EVENT_REFUSED: {
    status: 422,
    meaning:
      'The event does not fit the catalog: its type is not in eventTypes (with ingest.unknownTypes: reject) or its ' +
      "payload fails the type's schema; details has the reason and each schema error ({path, message}). Nothing " +
      'was published (POST /v1/events) or stored (a redrive, which also answers this for an envelope that cannot ' +
      'be read).',
  },
  HOOKSD_URL_REFUSED: {
    status: 400,
    meaning:
      'A consumer URL delivery.network would refuse every delivery to: an IP address in a refused range, or a name ' +
      'that resolves only to such addresses. The message names the setting that would allow it ' +
      '(delivery.network.allowPrivate or allowCidrs).',
  },
  HOOKSD_DEAD_LETTER_REDRIVEN: {
    status: 409,
    meaning: 'The dead letter was redriven already, or is being redriven right now; details names its event.',
  },
  HOOKSD_BODY_TOO_LARGE: { status: 413, meaning: 'The request body is larger than the API accepts.' },
  HOOKSD_HEADERS_TOO_LARGE: {
    status: 431,
    meaning: 'The request line and headers together are larger than the API reads (16 KB).',
  },
  HOOKSD_BAD_HTTP: {
    status: 400,
    meaning: 'The request is not valid HTTP/1.1: the server refused it before any route saw it.',
  },
  HOOKSD_REQUEST_TIMEOUT: { status: 408, meaning: "The request did not arrive whole within the server's time limits." },
  HOOKSD_ROUTE_NOT_FOUND: { status: 404, meaning: 'No route matches this path.' },
  HOOKSD_CONSOLE_MISSING: {
    status: 503,
    meaning: "The console's files (dist/ui) are not there: this copy of hooksd was not built with `npm run build`.",
  },
  HOOKSD_METHOD_NOT_ALLOWED: {
    status: 405,
    meaning: 'The path exists but not with this method; the Allow header lists the methods it takes.',
  },
  HOOKSD_FILTER_INVALID: {
    status: 400,
    meaning:
      'A payload filter cannot be compiled; the message names the place in the filter. Through the API it answers ' +
      'as HOOKSD_INVALID_REQUEST, in the config file as HOOKSD_PLUGIN_INVALID.',
  },
  HOOKSD_TRANSFORM_FAILED: {
    status: 500,
    meaning:
      'A transform script did not compile (start-up stops), ran out of time, threw, or returned something that is ' +
      'not a webhook; a failed run is recorded on the attempt with error class transform.',
  },
  HOOKSD_ADDRESS_BLOCKED: {
    status: 403,
    meaning:
      'A delivery was refused before connecting: the address is not public and delivery.network does not allow it; ' +
      'recorded on the attempt with error class blocked.',
  },
  HOOKSD_INTERNAL: { status: 500, meaning: 'An unexpected error; the log has the details.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HooksdError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HooksdError';
    this.status = ERROR_CODES[code].status;
  }
}
