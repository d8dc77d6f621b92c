import type { Consumer } from './consumer.js';

/**
 * What hooksd records of an attempt, with credentials taken out: header values by the header's
 * name, and error texts by the consumer's own credentials. An error text is shown by the API
 * (attempts, messages, delivery stats), logged and published in operational events, and a
 * transform's error may quote anything the transform saw, its request headers included.
 */

const REDACTED = '[redacted]';
const SENSITIVE_HEADER = /authorization|cookie|token|secret|api-?key|password/i;
/** Shorter values are not looked for in texts: they would match ordinary words. */
const SHORTEST_SECRET = 6;
/** Credentials recognised by their form, whoever they belong to. */
const CREDENTIAL_FORMS: [RegExp, string][] = [
  [/whsec_[A-Za-z0-9+/=_-]+/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/(\/\/[^/\s:@]*):[^/\s@]+@/g, `$1:${REDACTED}@`],
];

/** Headers as recorded on an attempt: credentials replaced by a marker. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = SENSITIVE_HEADER.test(name) ? REDACTED : value;
  return out;
}

/** The consumer's credentials: its signing secrets, the values of its sensitive headers, its URL's password. */
function credentialsOf(consumer: Pick<Consumer, 'secrets' | 'configSecret' | 'headers' | 'url'>): string[] {
  const values = [
    ...consumer.secrets.flatMap((s) => [s.secret, s.secret.replace(/^whsec_/, '')]),
    ...(consumer.configSecret === undefined ? [] : [consumer.configSecret]),
    ...Object.entries(consumer.headers)
      .filter(([name]) => SENSITIVE_HEADER.test(name))
      .flatMap(([, value]) => [value, value.replace(/^\S+\s+/, '')]),
  ];
  try {
    const password = decodeURIComponent(new URL(consumer.url).password);
    if (password !== '') values.push(password);
  } catch {
    // A URL that does not parse has no password to hide.
  }
  // Longest first, so a value that holds another is replaced whole.
  return [...new Set(values.filter((v) => v.length >= SHORTEST_SECRET))].sort((a, b) => b.length - a.length);
}

/** `text` without the consumer's credentials nor anything shaped like a credential. */
export function redactText(text: string, consumer: Pick<Consumer, 'secrets' | 'configSecret' | 'headers' | 'url'>) {
  let out = text;
  for (const value of credentialsOf(consumer)) out = out.split(value).join(REDACTED);
  for (const [form, replacement] of CREDENTIAL_FORMS) out = out.replace(form, replacement);
  return out;
}
