// What the fetch-handler and node:http-listener adapters cost, against a native Gateway app
// measured in the same run.
//
// 1. In memory (tinybench): each iteration builds a GatewayRequest, calls the app and drains
//    the response body, for the same "Hello, World!" answer written five ways: a native
//    Gateway app; a bare fetch handler (`{ fetch: () => new Response(...) }`) and a Hono app
//    through adaptFetchHandler (each twice: with undici's global Response, and with the
//    lightweight one Gatehouse installs for a fetch app, `fetchGlobals`); a bare node listener (writeHead + end) and an Express app
//    through adaptNodeListener. Plus a JSON POST (read the body, answer JSON) natively, with
//    Hono and with Express + express.json(). The figure that matters is the ratio to native.
// 2. Under load (--load): the single engine serving examples/hello (native), examples/fetch
//    (Hono, with fetchGlobals on and off) and examples/node (Express), and as peers Hono on @hono/node-server and Express on
//    node:http, each in its own process, GET / over loopback with wrk (or autocannon when wrk
//    is missing), in interleaved rounds; the median requests/s of each and its ratio to native.
//
// Usage (after `npx --yes pnpm@10.34.8 build`):
//   node benchmarks/micro/fetch-adapter.bench.mjs [--time ms] [--load] [--rounds n] [--duration s] [--connections n] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { createRequest, bufferedBodySource, adaptFetchHandler, adaptNodeListener, installFetchGlobals } from '../../packages/core/dist/src/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i === -1 ? fallback : Number(args[i + 1]); };
const timeMs = option('--time', 1000);
const json = args.includes('--json');
const root = fileURLToPath(new URL('../..', import.meta.url));

// The frameworks are the examples' dependencies: resolve them from there.
const fromFetchExample = createRequire(`${root}examples/fetch/package.json`);
const fromNodeExample = createRequire(`${root}examples/node/package.json`);
const { Hono } = await import(fromFetchExample.resolve('hono'));
const express = fromNodeExample('express');

const HELLO = 'Hello, World!';

// The two global Responses: undici's, and Gatehouse's lightweight one (what a fetch app gets
// under fetchGlobals). A "(fetchGlobals)" app runs with the second installed, the others
// with the first; frameworks look the global up at call time.
const undiciResponse = globalThis.Response;
installFetchGlobals();
const lightResponse = globalThis.Response;
globalThis.Response = undiciResponse;
function withLightResponse(app) {
  return async (request) => {
    globalThis.Response = lightResponse;
    try { return await app(request); } finally { globalThis.Response = undiciResponse; }
  };
}
const JSON_BODY = JSON.stringify({ name: 'Ada', languages: ['en', 'fr'], admin: false });

function gatewayRequest(method = 'GET', target = '/', body = null) {
  const rawHeaders = ['host', '127.0.0.1:8000', 'user-agent', 'bench', 'accept', '*/*'];
  if (body !== null) rawHeaders.push('content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)));
  return createRequest({
    method, target, path: target, query: '', httpVersion: '1.1', rawHeaders, scheme: 'http',
    remote: { address: '127.0.0.1', port: 40000 }, server: { address: '127.0.0.1', port: 8000 },
    bodyLength: body === null ? 0 : Buffer.byteLength(body),
  }, body === null ? null : bufferedBodySource(body), new AbortController().signal);
}

async function drain(response) {
  const body = response.body;
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return;
  for await (const chunk of body) void chunk;
}

const apps = {
  'native Gateway app': (request) => ({ status: 200, headers: [['content-type', 'text/plain']], body: HELLO }),
  'fetch handler (bare)': adaptFetchHandler({ fetch: () => new Response(HELLO, { headers: { 'content-type': 'text/plain' } }) }),
  'fetch handler (Hono)': adaptFetchHandler(new Hono().get('/', (c) => c.text(HELLO))),
  'fetch handler (bare, fetchGlobals)': withLightResponse(adaptFetchHandler({ fetch: () => new Response(HELLO, { headers: { 'content-type': 'text/plain' } }) })),
  'fetch handler (Hono, fetchGlobals)': withLightResponse(adaptFetchHandler(new Hono().get('/', (c) => c.text(HELLO)))),
  'node listener (bare)': adaptNodeListener((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(HELLO); }),
  'node listener (Express)': adaptNodeListener(express().disable('etag').get('/', (req, res) => res.type('text').send(HELLO))),
};
const postApps = {
  'native Gateway app': async (request) => {
    const data = await request.body.json();
    return { status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify({ hello: data.name }) };
  },
  'fetch handler (Hono)': adaptFetchHandler(new Hono().post('/', async (c) => c.json({ hello: (await c.req.json()).name }))),
  'fetch handler (Hono, fetchGlobals)': withLightResponse(adaptFetchHandler(new Hono().post('/', async (c) => c.json({ hello: (await c.req.json()).name })))),
  'node listener (Express)': adaptNodeListener(express().disable('etag').use(express.json()).post('/', (req, res) => res.json({ hello: req.body.name }))),
};

// Check every app answers correctly before timing anything.
for (const [name, app] of Object.entries(apps)) {
  const response = await app(gatewayRequest());
  if (response.status !== 200) throw new Error(`${name}: status ${response.status}`);
  await drain(response);
}
for (const [name, app] of Object.entries(postApps)) {
  const response = await app(gatewayRequest('POST', '/', JSON_BODY));
  if (response.status !== 200) throw new Error(`${name} (POST): status ${response.status}`);
  await drain(response);
}

// Each iteration serves BATCH requests one after another (one is near the timer's resolution).
const BATCH = 16;
const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs) });
for (const [name, app] of Object.entries(apps)) {
  bench.add(`GET  ${name}`, async () => { for (let i = 0; i < BATCH; i++) await drain(await app(gatewayRequest())); });
}
for (const [name, app] of Object.entries(postApps)) {
  bench.add(`POST ${name}`, async () => { for (let i = 0; i < BATCH; i++) await drain(await app(gatewayRequest('POST', '/', JSON_BODY))); });
}
await bench.run();

// Requests per second from the median iteration time.
const rows = bench.tasks.map((task) => {
  const medianMs = task.result.latency.p50;
  return { task: task.name, opsPerSec: Math.round((BATCH * 1000) / medianMs), usPerRequest: Number(((medianMs * 1000) / BATCH).toFixed(2)) };
});
const nativeGet = rows.find((r) => r.task === 'GET  native Gateway app').opsPerSec;
const nativePost = rows.find((r) => r.task === 'POST native Gateway app').opsPerSec;
for (const row of rows) row.ratioToNative = Number((row.opsPerSec / (row.task.startsWith('GET') ? nativeGet : nativePost)).toFixed(3));

let load = null;
if (args.includes('--load')) load = await loadFigures();

if (json) {
  console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, timeMs, micro: rows, load }, null, 2));
} else {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${timeMs} ms per task (median throughput)\n`);
  console.table(rows);
  if (load) {
    console.log(`\nUnder load: single engine, GET /, ${load.tool}, ${load.connections} connections, ${load.duration}s x ${load.rounds} interleaved rounds (median requests/s)\n`);
    console.table(load.results);
  }
}

// ---- load ------------------------------------------------------------------------------

async function loadFigures() {
  const rounds = option('--rounds', 3);
  const duration = option('--duration', 5);
  const connections = option('--connections', 50);
  const tool = spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';
  // Gatehouse's single engine serving each app, and each framework on its usual server
  // (Express on node:http, Hono on @hono/node-server), all one process on this event loop.
  const targets = {
    'Gatehouse: native (examples/hello)': gatehouse(`${root}examples/hello/app.js`),
    'Gatehouse: Hono (examples/fetch)': gatehouse(`${root}examples/fetch/app.js`),
    'Gatehouse: Hono, fetchGlobals off': gatehouse(`${root}examples/fetch/app.js`, { fetchGlobals: false }),
    'Gatehouse: Express (examples/node)': gatehouse(`${root}examples/node/app.js`),
    'peer: Hono on @hono/node-server': `
      import { serve } from ${JSON.stringify(fromFetchExample.resolve('@hono/node-server'))};
      const app = (await import(${JSON.stringify(`${root}examples/fetch/app.js`)})).default;
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send({ url: 'http://127.0.0.1:' + info.port + '/' }));`,
    'peer: Express on node:http': `
      import http from 'node:http';
      const app = (await import(${JSON.stringify(`${root}examples/node/app.js`)})).default;
      const server = http.createServer(app).listen(0, '127.0.0.1', () => process.send({ url: 'http://127.0.0.1:' + server.address().port + '/' }));`,
  };
  const servers = {};
  try {
    for (const [name, code] of Object.entries(targets)) servers[name] = await startServer(name, code);
    const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of Object.keys(targets)) samples[name].push(await measure(tool, servers[name].url, duration, connections));
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const native = median(samples['Gatehouse: native (examples/hello)']);
    const results = Object.entries(samples).map(([name, values]) => ({
      server: name, requestsPerSec: Math.round(median(values)), ratioToNative: Number((median(values) / native).toFixed(3)), rounds: values.map(Math.round).join(' '),
    }));
    return { tool, rounds, duration, connections, results };
  } finally {
    for (const server of Object.values(servers)) server.child.kill('SIGKILL');
  }
}

/** Module code that runs the single engine serving `spec` on 127.0.0.1:0 and sends its URL. */
function gatehouse(spec, overrides = {}) {
  return `
    import { SingleEngine, defaultSettings } from ${JSON.stringify(`${root}packages/core/dist/src/index.js`)};
    const engine = new SingleEngine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'], ...${JSON.stringify(overrides)} }, app: { kind: 'module', spec: ${JSON.stringify(spec)} } });
    await engine.start();
    process.send({ url: engine.addresses[0].url });`;
}

/** Runs `code` in a child process; resolves with the URL it sends once listening. */
function startServer(spec, code) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec} did not start within 10 s`)), 10_000);
    child.once('message', (message) => { clearTimeout(timer); resolve({ child, url: message.url }); });
    child.once('exit', (status) => { clearTimeout(timer); reject(new Error(`${spec} exited with ${status}`)); });
  });
}

function measure(tool, url, duration, connections) {
  return new Promise((resolve, reject) => {
    const command = tool === 'wrk'
      ? ['wrk', ['-t1', `-c${connections}`, `-d${duration}s`, url]]
      : [process.execPath, [`${root}packages/bench/node_modules/autocannon/autocannon.js`, '-j', '-c', String(connections), '-d', String(duration), url]];
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('error', reject);
    child.on('exit', () => {
      if (tool === 'wrk') {
        const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
        const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
        if (errors) return reject(new Error(`${url}: ${errors[1]} error responses`));
        return match ? resolve(Number(match[1])) : reject(new Error(`wrk output not understood: ${out}`));
      }
      const result = JSON.parse(out);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} error responses, ${result.errors} errors`));
      resolve(result.requests.average);
    });
  });
}
