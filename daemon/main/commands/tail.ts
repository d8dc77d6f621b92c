import { validateConfigFile } from '../../../config/loader.js';
import { ERROR_CODES, HooksdError, type ErrorCode } from '../../common/errors.js';
import type { AttemptSummary } from '../../dispatch/attempt-feed.js';
import { usageError, type Command } from './command.js';

const RETRY_MS = 1000;

/** The API's address from the config's server.listen, reached through loopback when it listens everywhere. */
function apiUrl(configFile: string): string {
  const { config, problems } = validateConfigFile(configFile);
  if (config === undefined)
    throw usageError(`cannot read the API's address from ${configFile} (${problems[0]}): give --url`);
  const at = config.server.listen.lastIndexOf(':');
  const host = config.server.listen.slice(0, at);
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' || host === '::' ? '[::1]' : host;
  return `http://${shown}:${config.server.listen.slice(at + 1)}`;
}

const time = (iso: string | null) => (iso === null ? '' : iso.slice(11, 23));

/** One line per attempt, in columns: time (UTC), consumer, type, outcome, status or error, duration, what next. */
export function formatAttempt(a: AttemptSummary): string {
  const what = a.outcome === 'success' ? String(a.statusCode ?? '') : String(a.statusCode ?? a.errorClass ?? '');
  const which = a.attempt === null ? 'manual' : `attempt ${a.attempt}/${a.of}`;
  const next =
    a.nextAttemptAt === null ? (a.outcome === 'failure' ? `, ${a.status}` : '') : `, next ${time(a.nextAttemptAt)}`;
  return [
    time(a.at),
    a.consumerId.padEnd(16),
    a.eventType.padEnd(24),
    a.outcome.padEnd(7),
    what.padEnd(9),
    `${a.durationMs} ms`.padStart(8),
    ` ${which}${next}`,
  ].join(' ');
}

/** Reads server-sent events from `body`, calling `each` with every `data:` line's JSON. */
async function readEvents(body: ReadableStream<Uint8Array>, each: (data: unknown) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\n')) if (line.startsWith('data: ')) each(JSON.parse(line.slice(6)));
    }
  }
}

export const tailCommand: Command = {
  name: 'tail',
  synopsis: 'tail [--consumer ID] [--type EVENT_TYPE] [--status success|failure] [--json] [--url URL]',
  summary: 'follow deliveries live, one line per attempt (the token: $HOOKSD_TOKEN or --token)',
  options: {
    consumer: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    json: { type: 'boolean' },
    url: { type: 'string' },
    token: { type: 'string' },
  },
  args: [0, 0],
  async run({ options, configFile }) {
    const status = options.status as string | undefined;
    if (status !== undefined && status !== 'success' && status !== 'failure') {
      throw usageError(`--status takes success or failure, not "${status}"`);
    }
    const url = (options.url as string | undefined) ?? apiUrl(configFile);
    const token = (options.token as string | undefined) ?? process.env.HOOKSD_TOKEN;
    const query = new URLSearchParams();
    if (options.consumer) query.set('consumerId', options.consumer as string);
    if (options.type) query.set('eventType', options.type as string);
    if (status) query.set('outcome', status);
    const print = (summary: unknown) =>
      console.log(options.json ? JSON.stringify(summary) : formatAttempt(summary as AttemptSummary));
    const stop = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
    while (!stop.signal.aborted) {
      try {
        const res = await fetch(`${url}/v1/attempts/live?${query}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          signal: stop.signal,
        });
        if (!res.ok) {
          const answer = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
          const code =
            answer.code !== undefined && answer.code in ERROR_CODES ? (answer.code as ErrorCode) : 'HOOKSD_INTERNAL';
          throw new HooksdError(code, `${url} answered ${res.status}: ${answer.message ?? res.statusText}`);
        }
        console.error(`hooksd tail: following the attempts at ${url}`);
        await readEvents(res.body!, print);
        console.error(`hooksd tail: ${url} closed the stream; connecting again`);
      } catch (error) {
        if (stop.signal.aborted) break;
        if (error instanceof HooksdError) throw error;
        console.error(`hooksd tail: cannot reach ${url} (${(error as Error).message}); trying again in 1 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    return 0;
  },
};
