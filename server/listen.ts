/**
 * Binding the HTTP server: host:port, or a Unix domain socket (config.socket). A socket file left
 * by a server that died without closing is replaced; one a live server answers on is not.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { ServerConfig } from './config.js';
import { ServeError } from './errors.js';

export interface Bound {
  /** http://host:port, or http+unix://<percent-encoded socket path> (as curl's --unix-socket and requests-unixsocket name it). */
  readonly url: string;
  /** The TCP port; undefined on a Unix socket. */
  readonly port: number | undefined;
  readonly socket: string | undefined;
}

const listenOnce = (server: Server, target: number | string, host?: string) =>
  new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target, host, done);
  });

/** True when something accepts connections on the socket path. */
const answers = (path: string) =>
  new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

async function listenSocket(server: Server, path: string, mode: number): Promise<void> {
  try {
    await listenOnce(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await answers(path)) {
      throw new ServeError('ConfigInvalid', `another server is listening on socket ${path}`, {
        hint: 'stop it first, or pass another --socket path',
      });
    }
    // config checked it is a socket: a stale one from a server that was killed
    unlinkSync(path);
    await listenOnce(server, path);
  }
  chmodSync(path, mode);
}

export async function bind(server: Server, config: ServerConfig): Promise<Bound> {
  if (config.socket !== undefined) {
    await listenSocket(server, config.socket, config.socketMode);
    return {
      url: `http+unix://${encodeURIComponent(config.socket)}`,
      port: undefined,
      socket: config.socket,
    };
  }
  await listenOnce(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { url: `http://${host}:${port}`, port, socket: undefined };
}
