import http from 'node:http';
import type { Socket } from 'node:net';
import { HooksdError } from '../common/errors.js';

/** How long a refused request's connection stays open, at most, for the client to read the answer. */
const LINGER_MS = 5_000;

/** The error of a request Node's HTTP parser refused, before any route saw it. */
function refusal(error: NodeJS.ErrnoException & { reason?: string }): HooksdError {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new HooksdError(
      'HOOKSD_HEADERS_TOO_LARGE',
      `the request line and headers are larger than ${http.maxHeaderSize} bytes`,
    );
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new HooksdError('HOOKSD_REQUEST_TIMEOUT', 'the request did not arrive whole in time');
  return new HooksdError('HOOKSD_BAD_HTTP', `the request is not valid HTTP/1.1 (${error.reason ?? error.code})`);
}

/**
 * Node's HTTP server answers some requests itself, with an empty body: those its parser refuses
 * (a request line and headers over 16 KB: 431; bytes that are not HTTP: 400; too slow: 408), and
 * those with an Expect header other than 100-continue (417). The first answer here as every other
 * error of the API does, `{code, message, details}`; the second go on as if they had no Expect
 * header, which HTTP allows.
 */
export function answerLikeTheApi(server: http.Server): void {
  // Answers in progress per connection: an error answer written beside one would garble both.
  const answering = new WeakMap<Socket, number>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const { socket } = req;
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    res.once('close', () => answering.set(socket, (answering.get(socket) ?? 1) - 1));
  });
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    // Nothing can be answered on a closed connection, nor beside another answer.
    if (error.code === 'ECONNRESET' || !socket.writable || (answering.get(socket) ?? 0) > 0)
      return void socket.destroy();
    const coded = refusal(error);
    // An answer to HEAD has no body: the client would take one for garbage. The bytes the parser
    // stopped in start with the request line when the request came in one piece, as it mostly does.
    const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const body = head ? '' : JSON.stringify({ code: coded.code, message: coded.message, details: null });
    // A lingering close: what the client still sends (the rest of its headers, its body) is read and
    // dropped until it closes. Closing with that data unread would reset the connection, and the
    // client could lose the answer. The parser gave up on the socket: its reads stop here.
    socket.removeAllListeners('data');
    socket.on('data', () => undefined);
    socket.setTimeout(LINGER_MS, () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${coded.status} ${http.STATUS_CODES[coded.status]}\r\n` +
        (head ? '' : 'Content-Type: application/json; charset=utf-8\r\n') +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
}
