import type { NatsConnection } from 'nats';

export type AckKind = 'ack' | 'nak' | 'term';

export interface AckWatch {
  /** How hooksd settled the stream message `seq`: acked (stored), nak'ed (to come again) or terminated. */
  settled(seq: number, timeoutMs: number): Promise<AckKind>;
  stop(): void;
}

/**
 * Follows how hooksd acknowledges the messages of its durable consumer. Acks travel as core NATS
 * messages to the reply subject JetStream gave each delivery (`$JS.ACK.<stream>.<durable>...`),
 * so another client subscribed there sees them as they are sent: a test learns the moment a
 * message is settled, and whether it was nak'ed, without polling.
 */
export async function watchAcks(nc: NatsConnection, stream: string, durable: string): Promise<AckWatch> {
  const seen = new Map<number, AckKind>();
  const waiting = new Map<number, (kind: AckKind) => void>();
  const subscription = nc.subscribe(`$JS.ACK.${stream}.${durable}.>`);
  void (async () => {
    for await (const msg of subscription) {
      const kind = ackKind(new TextDecoder().decode(msg.data));
      if (kind === undefined) continue;
      const seq = streamSequence(msg.subject);
      // The last word counts: a message nak'ed and later acked was stored in the end.
      seen.set(seq, kind);
      waiting.get(seq)?.(kind);
    }
  })();
  await nc.flush();
  return {
    settled(seq, timeoutMs) {
      const known = seen.get(seq);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(seq);
          reject(new Error(`stream message ${seq} was neither acked nor nak'ed within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(seq, (kind) => {
          clearTimeout(timer);
          waiting.delete(seq);
          resolve(kind);
        });
      });
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** `+ACK` (or nothing) acks; `-NAK` asks for a redelivery; `+TERM` gives up; `+WPI` is only progress. */
function ackKind(payload: string): AckKind | undefined {
  if (payload === '' || payload.startsWith('+ACK')) return 'ack';
  if (payload.startsWith('-NAK')) return 'nak';
  if (payload.startsWith('+TERM')) return 'term';
  return undefined;
}

/**
 * The stream sequence in an ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`,
 * or with a domain and an account hash after `$JS.ACK` in the newer form (12 tokens).
 */
function streamSequence(subject: string): number {
  const tokens = subject.split('.');
  return Number(tokens[tokens.length === 9 ? 5 : 7]);
}
