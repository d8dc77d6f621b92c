import http from 'node:http';
import net from 'node:net';
import type { Test } from 'tap';

export interface ConnectProxy {
  url: string;
  /** The authority (`host:port`) of every CONNECT it was asked for, in order. */
  tunnels: string[];
  /** The Proxy-Authorization header of each CONNECT (undefined when there was none). */
  logins: (string | undefined)[];
}

/**
 * A real HTTP proxy on 127.0.0.1 that opens CONNECT tunnels, as an egress proxy does, and
 * answers 403 to a tunnel outside loopback. Closed, with its tunnels, when the test ends.
 */
export async function startConnectProxy(t: Test): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const logins: (string | undefined)[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    tunnels.push(String(req.url));
    logins.push(req.headers['proxy-authorization']);
    const target = new URL(`http://${req.url}`);
    if (target.hostname !== '127.0.0.1' && target.hostname !== '[::1]') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, tunnels, logins };
}
