// A custom hooksd transport: sends every request through an HTTP proxy that opens CONNECT
// tunnels (an egress proxy between your network and the internet). Use it in hooks.config.yaml:
//   delivery:
//     transport: { use: ./examples/plugins/proxy-transport.js, options: { proxy: 'http://proxy.internal:3128' } }
// hooksd's network policy still holds: the consumer's host name is resolved and checked with
// `request.lookup` here, and the tunnel is opened to the address that passed, never to a name
// the proxy would resolve on its own. Each request has a tunnel of its own (no keep-alive).
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export const name = 'connectProxy';
export const kind = 'transport';
export const description =
  'Sends each request through an HTTP proxy, in a CONNECT tunnel to the address the network policy passed.';
export const example = [
  'delivery:',
  '  transport:',
  '    use: ./examples/plugins/proxy-transport.js',
  "    options: { proxy: 'http://proxy.internal:3128' }",
].join('\n');
export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['proxy'],
  properties: {
    proxy: {
      type: 'string',
      pattern: '^http://[^/?#]+/?$',
      description: 'The proxy, as http://host:port (http://user:password@host:port when it asks for a login).',
    },
  },
};

export function create(options) {
  const proxy = new URL(options.proxy);
  const login =
    proxy.username === ''
      ? {}
      : {
          'proxy-authorization':
            'Basic ' +
            Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString(
              'base64',
            ),
        };
  return { send: (request) => send({ host: proxy.hostname, port: Number(proxy.port) || 80, login }, request) };
}

/** One request: resolve and check, tunnel, handshake, exchange; everything within request.timeout. */
async function send(proxy, request) {
  const started = Date.now();
  const steps = {};
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);
  const open = new Set();
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`Timeout awaiting 'request' for ${request.timeout}ms`);
      reject(Object.assign(error, { name: 'TimeoutError', code: 'ETIMEDOUT' }));
    }, request.timeout);
  });
  const exchange = async () => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const address = net.isIP(host) ? host : await lookup(request.lookup, host);
    steps.lookup = Date.now();
    let socket = await tunnel(proxy, net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`, open);
    steps.connect = Date.now();
    if (secure) {
      socket = await handshake(socket, host, request.tls, open);
      steps.secureConnect = Date.now();
    }
    return await exchangeOn(socket, url, request, steps);
  };
  try {
    return { ...(await Promise.race([exchange(), late])), steps, timings: phases(steps, started) };
  } catch (error) {
    return { error, steps, timings: phases(steps, started) };
  } finally {
    clearTimeout(timer);
    for (const socket of open) socket.destroy();
  }
}

function lookup(resolve, host) {
  return new Promise((ok, fail) => resolve(host, {}, (error, address) => (error ? fail(error) : ok(address))));
}

/** A socket to `authority` through the proxy. */
function tunnel(proxy, authority, open) {
  return new Promise((ok, fail) => {
    const connect = http.request({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxy.login },
      agent: false,
    });
    connect.once('socket', (socket) => open.add(socket));
    connect.once('connect', (response, socket) => {
      open.add(socket);
      if (response.statusCode === 200) return ok(socket);
      const error = new Error(`the proxy answered ${response.statusCode} to CONNECT ${authority}`);
      fail(Object.assign(error, { code: 'ECONNREFUSED' }));
    });
    connect.once('error', fail);
    connect.end();
  });
}

/** TLS over the tunnel, with the consumer's client certificate and CA; the name checked is the URL's. */
function handshake(socket, host, files, open) {
  return new Promise((ok, fail) => {
    const secured = tls.connect({ socket, servername: net.isIP(host) ? undefined : host, ...files }, () => ok(secured));
    open.add(secured);
    secured.once('error', fail);
  });
}

/** The request on the socket; the response body is read up to maxResponseBytes. */
function exchangeOn(socket, url, request, steps) {
  return new Promise((ok, fail) => {
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    const outgoing = http.request(
      {
        method: request.method,
        path: url.pathname + url.search,
        headers: { host: url.host, 'content-length': body.length, ...request.headers },
        createConnection: () => socket,
      },
      (response) => {
        steps.response = Date.now();
        const chunks = [];
        let kept = 0;
        const done = (truncated) => {
          const text = Buffer.concat(chunks).toString('utf8');
          ok({ response: { statusCode: response.statusCode, headers: response.headers, body: text, truncated } });
        };
        response.on('data', (chunk) => {
          const room = request.maxResponseBytes - kept;
          if (chunk.length <= room) {
            chunks.push(chunk);
            kept += chunk.length;
            return;
          }
          chunks.push(chunk.subarray(0, room));
          done(true);
          outgoing.destroy();
        });
        response.once('end', () => done(false));
        response.once('close', () => {
          if (!response.complete)
            fail(Object.assign(new Error('The server aborted pending request'), { code: 'ECONNRESET' }));
        });
        response.once('error', fail);
      },
    );
    outgoing.once('finish', () => (steps.upload = Date.now()));
    outgoing.once('error', fail);
    outgoing.end(body);
  });
}

/** got's phase names, from the steps reached. */
function phases(steps, started) {
  const since = (from, to) => (from === undefined || to === undefined ? undefined : to - from);
  const connected = steps.secureConnect ?? steps.connect;
  return {
    dns: since(started, steps.lookup),
    tcp: since(steps.lookup, steps.connect),
    tls: since(steps.connect, steps.secureConnect),
    request: since(connected, steps.upload),
    firstByte: since(steps.upload, steps.response),
    total: Date.now() - started,
  };
}
