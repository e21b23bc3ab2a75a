// The yardstick for the WebSocket benchmarks: `ws` on node:http doing what examples/websocket
// does on /echo (every message back as it came, text as text, binary as binary), any other
// upgrade refused with 404. PORT and HOST (default 127.0.0.1) from the environment; WORKERS=N
// (N > 1) runs N node:cluster workers sharing the port. Exits on SIGTERM/SIGINT.
import http from 'node:http';
import cluster from 'node:cluster';
import { WebSocketServer } from 'ws';

const workers = Number(process.env.WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const server = http.createServer((req, res) => res.end(`echo peer in process ${process.pid}\n`));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/echo') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  server.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '127.0.0.1');
  const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
