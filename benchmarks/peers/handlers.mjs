// Plain node:http handlers doing the same work as the Gatehouse scenario apps
// (../scenarios/*.mjs share ../scenarios/work.mjs with them). They are the peers that engine
// figures are compared against: what the same work costs on node:http with no framework.
import { HELLO_BODY, cpuWork, ioWait, STREAM_CHUNK, STREAM_CHUNKS } from '../scenarios/work.mjs';

function text(res, body) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const hello = (_req, res) => text(res, HELLO_BODY);
const cpu = (req, res) => {
  const body = cpuWork(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const io = (_req, res) => { ioWait().then(() => text(res, 'waited\n')); };
const upload = (req, res) => {
  let length = 0;
  req.on('data', (chunk) => { length += chunk.length; });
  req.on('end', () => text(res, `received ${length} bytes\n`));
};
const echo = (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => { chunks.push(chunk); });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
};
const stream = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let sent = 0;
  // Respect backpressure like the engines do: write the next chunk only after a drain.
  const next = () => {
    while (sent < STREAM_CHUNKS) {
      sent++;
      if (!res.write(STREAM_CHUNK)) { res.once('drain', next); return; }
    }
    res.end();
  };
  next();
};
const routes = { '/hello': hello, '/cpu': cpu, '/io': io, '/upload': upload };
const mixed = (req, res) => {
  const route = routes[new URL(req.url, 'http://x').pathname];
  if (route) return route(req, res);
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
};

export const handlers = { hello, cpu, io, upload, echo, stream, mixed };
