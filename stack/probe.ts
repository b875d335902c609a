import { connect } from 'node:net';
import { request } from 'node:http';
import type { HostPort } from './address.js';

/** True when something accepts a TCP connection; says nothing about who it is. */
export function tcpOpen(hp: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host: hp.host, port: hp.port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolveOpen(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Sends one request and collects the reply until `complete` says it has enough. Protocol-level probes
 * prove the right kind of server is on the port, not just any listener.
 */
export function tcpExchange(
  hp: HostPort,
  payload: Buffer,
  complete: (received: Buffer) => boolean,
  timeoutMs = 2000,
): Promise<Buffer | undefined> {
  return new Promise((resolveReply) => {
    const socket = connect({ host: hp.host, port: hp.port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (reply: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolveReply(reply);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(chunks.length ? Buffer.concat(chunks) : undefined));
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (complete(all)) finish(all);
    });
  });
}

export function httpGet(
  url: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolveGet) => {
    // No keep-alive: an idle pooled connection would make ClickHouse wait for it on SIGTERM.
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolveGet(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveGet(undefined));
    req.end();
  });
}
