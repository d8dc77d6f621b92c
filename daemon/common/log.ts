import pino, { type Logger } from 'pino';

/** Paths pino blanks in every log line, wherever a config, consumer or request object is logged. */
const REDACT_PATHS = [
  'secret',
  'secrets',
  'token',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.tokens',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'req.headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: 'hooksd' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination,
  );
}
