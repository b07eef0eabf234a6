import type { Server } from 'node:http';
import { connect } from 'node:net';
import type Koa from 'koa';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A real listening server on 127.0.0.1 and a spare port. */
export async function listen(app: Koa<any, any>): Promise<Listening> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * Sends a GET whose `Authorization` value is given as bytes (a latin-1 string), over a plain
 * socket: fetch refuses non-ASCII bytes and trims the value, so it cannot send every DRF case.
 * `null` sends no Authorization header at all.
 */
export function rawGet(port: number, path: string, authorization: string | null): Promise<Reply> {
  const head = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const request = Buffer.concat([
    Buffer.from(head.join('\r\n') + '\r\n', 'latin1'),
    authorization === null ? Buffer.alloc(0) : Buffer.from(`Authorization:${authorization}\r\n`, 'latin1'),
    Buffer.from('\r\n'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
    // Written, not ended: a half-closed client may be dropped before its answer is sent.
    socket.write(request);
  });
}

/** What fetch can carry unchanged: visible ASCII, inner spaces or tabs, nothing to trim. */
const FETCHABLE = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/;

/** GET with an Authorization value: by fetch when fetch can send it as is, else over a raw socket. */
export async function get(listening: Listening, path: string, authorization: string | null): Promise<Reply> {
  if (authorization !== null && !FETCHABLE.test(authorization)) return rawGet(listening.port, path, ` ${authorization}`);
  const response = await fetch(listening.url + path, { headers: authorization === null ? {} : { authorization } });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}
