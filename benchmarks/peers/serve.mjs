// The peer servers' common start-up. Convention (benchmarks/README.md): the bench tool starts a
// peer as `node benchmarks/peers/<peer>-<scenario>.mjs` with PORT, HOST (default 127.0.0.1) and,
// for node-cluster, WORKERS (default: available parallelism) in the environment, then polls the
// port until it answers. A peer exits on SIGTERM/SIGINT. With PROTOCOL=h2c the same handler is
// served by node:http2 (h2c with prior knowledge, its compatibility API), for HTTP/2 runs.
import http from 'node:http';
import http2 from 'node:http2';
import cluster from 'node:cluster';
import os from 'node:os';
import { handlers } from './handlers.mjs';

function createServer(handler) {
  if (process.env.PROTOCOL === 'h2c') return http2.createServer(handler);
  const server = http.createServer(handler);
  // node:http's defaults, except a keep-alive timeout matching Gatehouse's default (5 s).
  server.keepAliveTimeout = 5000;
  return server;
}

function listen(handler) {
  const server = createServer(handler);
  server.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '127.0.0.1');
  const stop = () => { server.close(); server.closeAllConnections?.(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

/** One process, one event loop: `node:http` as most apps run it. */
export function serveHttp(scenario) {
  listen(handlers[scenario]);
}

/** node:cluster: a primary forks WORKERS processes that share the listening socket. */
export function serveCluster(scenario) {
  if (cluster.isPrimary) {
    const count = Number(process.env.WORKERS ?? os.availableParallelism());
    for (let i = 0; i < count; i++) cluster.fork();
    const stop = () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } else {
    listen(handlers[scenario]);
  }
}
