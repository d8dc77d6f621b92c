import type { TransportResult } from '../../plugins/contract.js';
import type { ErrorClass } from '../store/records.js';
import { BLOCKED_CODE } from './network-guard.js';

/** When a request reached each step (Date.now() ms), as got's timings name them; unset: not reached. */
export type StepTimes = NonNullable<TransportResult['steps']>;

/** A transport's error: transport errors carry a code. */
export type RequestError = NonNullable<TransportResult['error']>;

/** What the attempt records of a request that failed on its way, before or after the response began. */
export interface Failure {
  errorClass: ErrorClass;
  error: string;
}

/**
 * The class says how the request ended, the message where. `timeout`: the consumer's time ran
 * out, whatever was still going on (connecting, the TLS handshake, the consumer taking the
 * request, its headers, its body); the message names that step. A stalled handshake is a
 * timeout, not `tls`: nothing was refused, and the retry policy backs off after timeouts.
 * `connect`: the connection was refused, reset or closed early, before or during the response.
 * `tls`: a handshake that failed (certificate, protocol). `dns` and `blocked` as named.
 */
export function failureOf(
  error: RequestError | undefined,
  context: { timeoutMs: number; https: boolean; statusCode?: number; steps?: StepTimes },
): Failure {
  const errorClass = classify(error);
  if (errorClass === 'timeout') {
    return { errorClass, error: `ETIMEDOUT: ${stalled(context.steps, context.https)} within ${context.timeoutMs} ms` };
  }
  const after = context.statusCode === undefined ? '' : ` after the response headers (HTTP ${context.statusCode})`;
  return { errorClass, error: describe(error) + after };
}

function classify(error: RequestError | undefined): ErrorClass {
  const code = error?.code ?? '';
  if (code === BLOCKED_CODE) return 'blocked';
  if (error?.name === 'TimeoutError' || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return 'dns';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|EPROTO)/.test(code)) return 'tls';
  return 'connect';
}

/** The step a request cut by its timeout had not finished. */
function stalled(timings: StepTimes | undefined, https: boolean): string {
  if (timings?.connect === undefined) return 'no connection';
  if (https && timings.secureConnect === undefined) return 'the TLS handshake did not complete';
  if (timings.upload === undefined) return 'the request body was not fully sent';
  if (timings.response === undefined) return 'no complete response headers';
  return 'the response body did not end';
}

function describe(error: RequestError | undefined): string {
  if (!error) return 'unknown error';
  if (error.code === BLOCKED_CODE) return error.message;
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
