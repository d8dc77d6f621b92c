import net, { type AddressInfo } from 'node:net';
import type { Test } from 'tap';

/** One connection a faulty consumer accepted. */
export interface Connection {
  acceptedAt: number;
  /** When the socket closed, by either side; stays undefined on a socket that is never read. */
  closedAt?: number;
  /** Response bytes the kernel took from the server (sent, or buffered on their way). */
  bytesSent: number;
}

export interface FaultyConsumer {
  /** `http://` or `https://` on 127.0.0.1 and the server's port. */
  url: string;
  connections: Connection[];
  /** Resolves once `count` connections have been accepted (rejects after `timeoutMs`). */
  waitForConnections(count: number, timeoutMs?: number): Promise<Connection[]>;
}

/** Called once the request has been read whole (at once, for servers that do not read requests). */
type Misbehave = (socket: net.Socket, connection: Connection) => void;

/** What the server does with the bytes it is sent: reads an HTTP request, ignores them all, or never reads. */
type Reading = 'request' | 'discard' | 'never';

/**
 * A raw TCP server on 127.0.0.1 that answers each request in the wrong way `misbehave` picks:
 * `node:http` always answers well-formed HTTP in time, so the faults are written by hand.
 * Every socket is destroyed and every timer cleared when the test ends.
 */
async function startFaulty(
  t: Test,
  misbehave: Misbehave,
  options: { scheme?: 'http' | 'https'; reading?: Reading } = {},
): Promise<FaultyConsumer> {
  const { scheme = 'http', reading = 'request' } = options;
  const connections: Connection[] = [];
  const sockets = new Set<net.Socket>();
  // A paused socket is never read, so the server does not even see the client's bytes.
  const server = net.createServer({ pauseOnConnect: reading === 'never' }, (socket) => {
    const connection: Connection = { acceptedAt: Date.now(), bytesSent: 0 };
    connections.push(connection);
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connection.closedAt = Date.now();
      connection.bytesSent = socket.bytesWritten;
      sockets.delete(socket);
    });
    if (reading === 'request') return afterRequest(socket, () => misbehave(socket, connection));
    if (reading === 'discard') socket.on('data', () => undefined);
    misbehave(socket, connection);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    connections,
    async waitForConnections(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (connections.length < count) {
        if (Date.now() > deadline) throw new Error(`${connections.length} of ${count} connections in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return connections;
    },
  };
}

/**
 * Reads an HTTP/1.1 request with a Content-Length body (what hooksd sends), then calls `done`.
 * Bytes are read, and ignored, for as long as the connection lasts.
 */
function afterRequest(socket: net.Socket, done: () => void): void {
  let received = Buffer.alloc(0);
  let called = false;
  socket.on('data', (chunk: Buffer) => {
    if (called) return;
    received = Buffer.concat([received, chunk]);
    const headEnd = received.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(received.subarray(0, headEnd).toString('latin1'));
    if (received.length - headEnd - 4 < Number(length?.[1] ?? 0)) return;
    called = true;
    done();
  });
}

/** Repeats `every` until the socket closes. */
function repeat(socket: net.Socket, ms: number, every: () => void): void {
  const timer = setInterval(every, ms);
  socket.on('close', () => clearInterval(timer));
}

const HEAD_200 = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n';

/** Sends its status line and headers one byte a second: they never finish within a timeout. */
export function dribblingHeaders(t: Test): Promise<FaultyConsumer> {
  const head = Buffer.from(`${HEAD_200}content-length: 2\r\n\r\nok`);
  return startFaulty(t, (socket) => {
    let sent = 0;
    repeat(socket, 1000, () => {
      if (sent < head.length) socket.write(head.subarray(sent, (sent += 1)));
    });
  });
}

/** Answers 200 with a chunked body whose chunks, one byte each, keep coming and never end. */
export function endlessBody(t: Test): Promise<FaultyConsumer> {
  return startFaulty(t, (socket) => {
    socket.write(`${HEAD_200}transfer-encoding: chunked\r\n\r\n`);
    repeat(socket, 200, () => socket.write('1\r\nx\r\n'));
  });
}

/** Accepts TCP on an https URL, reads the TLS ClientHello and never answers it. */
export function silentTls(t: Test): Promise<FaultyConsumer> {
  return startFaulty(t, () => undefined, { scheme: 'https', reading: 'discard' });
}

/** Answers 200 with a Content-Length of 1000, sends `partial`, then resets the connection after `holdMs`. */
export function resetMidBody(t: Test, partial: string, holdMs: number): Promise<FaultyConsumer> {
  return startFaulty(t, (socket) => {
    socket.write(`${HEAD_200}content-length: 1000\r\n\r\n${partial}`);
    const timer = setTimeout(() => socket.resetAndDestroy(), holdMs);
    socket.on('close', () => clearTimeout(timer));
  });
}

/**
 * Answers 200 with a body of `bytes` (1 GiB, say), made on the fly from one 64 KiB chunk and
 * written only as fast as the client reads it: the server never holds more than the chunk.
 */
export function hugeBody(t: Test, bytes: number): Promise<FaultyConsumer> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return startFaulty(t, (socket, connection) => {
    socket.write(`${HEAD_200}content-length: ${bytes}\r\n\r\n`);
    let left = bytes;
    const write = () => {
      while (left > 0 && !socket.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        connection.bytesSent = socket.bytesWritten;
        if (!socket.write(piece)) return void socket.once('drain', write);
      }
    };
    write();
  });
}

/** Accepts connections and never reads from them: a big request cannot be written whole. */
export function neverReads(t: Test): Promise<FaultyConsumer> {
  return startFaulty(t, () => undefined, { reading: 'never' });
}
