// Load figures for the threaded engine, all in one run on loopback:
// examples/hello and examples/cpu under the threaded engine (2 threads), against one plain
// node:http process and against the prefork engine (2 workers), in alternating rounds.
// Reports requests/s medians, ratios, and the total RSS of each server's process tree
// sampled under load. Needs wrk (apt-get install -y wrk); tests never do.
//   node benchmarks/threaded/load.mjs [--rounds 3] [--duration 8] [--connections 64] [--cpu-connections 16]
//     [--scenarios hello,cpu] [--kinds threaded,prefork,node:http]   (subsets, for quick A/B runs)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const list = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1].split(',') : fallback);
const ROUNDS = option('rounds', 3);
const DURATION = option('duration', 8);
/** Connections per scenario: enough to keep every unit busy; cpu needs few (each request is milliseconds of work). */
const CONNECTIONS = { hello: option('connections', 64), cpu: option('cpu-connections', 16) };
const UNITS = 2;

const launcher = path.join(here, 'launch.mjs');
const servers = {
  'threaded': (app, port) => [launcher, 'threaded', app, port, String(UNITS)],
  // Same engine with more requests in flight per thread than the default 16 (see docs/engines.md).
  'threaded c64': (app, port) => [launcher, 'threaded', app, port, String(UNITS), '64'],
  'prefork': (app, port) => [launcher, 'prefork', app, port, String(UNITS)],
  // A/B against an earlier build: a copy of dist/ in packages/engine-threaded/.ab-base/ (not committed).
  'threaded base': (app, port) => [launcher, 'threaded-base', app, port, String(UNITS)],
};
/** A kind from the table, or "threaded cN" / "threaded base cN": that build with --thread-concurrency N. */
function serverArgv(kind, app, port) {
  if (servers[kind]) return servers[kind](app, port);
  const match = /^(threaded|threaded base) c(\d+)$/.exec(kind);
  if (!match) throw new Error(`unknown server kind ${kind}`);
  return [launcher, match[1] === 'threaded' ? 'threaded' : 'threaded-base', app, port, String(UNITS), match[2]];
}
const scenarios = {
  hello: { app: path.join(root, 'examples/hello/app.js'), path: '/', peer: path.join(root, 'benchmarks/peers/node-http-hello.mjs') },
  cpu: { app: path.join(root, 'examples/cpu/app.js'), path: '/cpu', peer: path.join(root, 'benchmarks/peers/node-http-cpu.mjs') },
};

const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sum of VmRSS over a process and all its descendants, in bytes. */
function treeRss(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch { /* gone */ }
  }
  let total = 0;
  const visit = (p) => {
    try { total += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))[1]) * 1024; } catch { /* gone */ }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return total;
}

async function waitUp(url) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try { const r = await fetch(url); await r.arrayBuffer(); if (r.ok) return; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

function wrk(url, seconds, connections) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', url]);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', () => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
      if (!rps) reject(new Error(out)); else resolve({ rps: Number(rps[1]), errors: errors ? errors[0] : '' });
    });
  });
}

async function measure(kind, scenario) {
  const port = await freePort();
  const { app, path: urlPath, peer } = scenarios[scenario];
  const argv = kind === 'node:http' ? [peer] : serverArgv(kind, app, String(port));
  const child = spawn(process.execPath, argv, { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}${urlPath}`;
  try {
    await waitUp(url);
    await wrk(url, 2, CONNECTIONS[scenario]); // warm-up: JIT, connection pools
    let rss = 0;
    const sampler = (async () => { await sleep(DURATION * 500); rss = treeRss(child.pid); await sleep(DURATION * 250); rss = Math.max(rss, treeRss(child.pid)); })();
    const result = await wrk(url, DURATION, CONNECTIONS[scenario]);
    await sampler;
    return { ...result, rss };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', resolve); });
  }
}

const kinds = list('kinds', ['threaded', 'threaded c64', 'prefork', 'node:http']);
const scenarioNames = list('scenarios', Object.keys(scenarios));
const results = {};
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of scenarioNames) {
    for (const kind of kinds) {
      const r = await measure(kind, scenario);
      (results[`${scenario}/${kind}`] ??= []).push(r);
      console.error(`round ${round} ${scenario} ${kind}: ${r.rps.toFixed(0)} req/s, RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB ${r.errors}`);
    }
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const rows = [];
for (const scenario of scenarioNames) {
  const med = Object.fromEntries(kinds.map((k) => [k, { rps: median(results[`${scenario}/${k}`].map((r) => r.rps)), rss: median(results[`${scenario}/${k}`].map((r) => r.rss)) }]));
  for (const kind of kinds) {
    rows.push({
      scenario, server: kind, 'req/s (median)': Math.round(med[kind].rps), 'RSS MiB (median)': Math.round(med[kind].rss / 2 ** 20),
      [`${kinds[0]} / this (req/s)`]: (med[kinds[0]].rps / med[kind].rps).toFixed(2), [`${kinds[0]} / this (RSS)`]: (med[kinds[0]].rss / med[kind].rss).toFixed(2),
    });
  }
}
console.log(`node ${process.version}, wrk -t1 -c${CONNECTIONS.hello} (cpu: -c${CONNECTIONS.cpu}) -d${DURATION}s --timeout 10s, ${ROUNDS} alternating rounds, ${UNITS} threads / workers`);
console.table(rows);
console.log(JSON.stringify({ name: 'threaded-load', rows }));
