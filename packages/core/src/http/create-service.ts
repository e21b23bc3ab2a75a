/*
 * TEMPORARY: an HttpService over node:http, so engines can be built and tested while core's
 * own protocol layer (parser.ts, connection.ts) is written. It is replaced by the
 * connection-based implementation; nothing outside this file may depend on node:http.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { createRequest, splitTarget } from '../gateway/request.js';
import { HeaderList } from '../gateway/headers.js';
import type { Dispatcher, RequestHead } from '../gateway/types.js';
import type { BodySource } from '../gateway/body-source.js';
import type { HttpService } from './service.js';
import type { ProtocolOptions } from './options.js';

export function createHttpService(dispatcher: Dispatcher, options: ProtocolOptions): HttpService {
  let inFlight = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: options.keepAliveTimeoutMs, headersTimeout: options.headersTimeoutMs }, (req, res) => {
    inFlight++; requests++;
    const controller = new AbortController();
    res.on('close', () => { if (!res.writableFinished) controller.abort(); });
    const raw: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) raw.push(req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!);
    const { path, query } = splitTarget(req.url ?? '/');
    const length = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : req.headers['transfer-encoding'] ? null : 0;
    const head: RequestHead = {
      method: req.method!, target: req.url!, path, query, httpVersion: req.httpVersion === '1.0' ? '1.0' : '1.1', rawHeaders: raw,
      scheme: options.scheme, remote: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      server: { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 }, bodyLength: length,
    };
    const iterator = req[Symbol.asyncIterator]();
    const source: BodySource | null = length === 0 ? null : {
      length,
      pull: async () => { const r = await iterator.next(); return r.done ? null : new Uint8Array(r.value as Buffer); },
      cancel: () => { req.resume(); },
    };
    dispatcher.dispatch(createRequest(head, source, controller.signal)).then(async (response) => {
      const headers = HeaderList.from(response.headers);
      res.statusCode = response.status;
      for (const [name, value] of headers) res.appendHeader(name, value);
      if (options.serverHeader) res.setHeader('server', options.serverHeader);
      const body = response.body;
      if (body == null) res.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) res.end(body);
      else { for await (const chunk of body) { if (!res.write(chunk)) await new Promise((r) => res.once('drain', r)); } res.end(); }
    }).catch((error) => {
      if (!res.headersSent) { res.statusCode = 500; res.end('Internal Server Error'); } else res.destroy(error as Error);
    }).finally(() => { inFlight--; });
  });
  return {
    handle(socket) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      server.emit('connection', socket);
    },
    async drain(timeoutMs) {
      server.closeIdleConnections();
      const deadline = Date.now() + timeoutMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const s of sockets) s.destroy();
    },
    destroyAll() { for (const s of sockets) s.destroy(); },
    stats: () => ({ connections: sockets.size, inFlight, requests }),
  };
}
