#!/usr/bin/env node
// Resident memory of servers at idle and, with --load, under keep-alive hello load: each server
// is started, answers one request, sits idle, is measured, then (with --load) gets wrk for the
// given seconds while its tree's RSS is sampled every 100 ms, then is stopped. Servers take
// turns within each round, so a drift in the machine's load touches them all alike.
//
//   node benchmarks/memory/idle-rss.mjs [--rounds 3] [--load SECONDS] [--idle-ms 1500] \
//     'single=node packages/cli/bin/serve.js examples/hello/app.js --engine single --bind 127.0.0.1:$PORT' \
//     'node:http=PORT=$PORT node benchmarks/peers/node-http-hello.mjs'
//
// Each server is NAME=COMMAND, run by sh with $PORT set to a free loopback port. Prints, per
// server, the median over rounds of the tree's RSS at idle (and the root's and children's
// share), of the peak under load and, as the last line, the same as JSON. Load needs wrk on PATH.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

function fail(message) {
  process.stderr.write(`idle-rss: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const options = { rounds: 3, load: 0, 'idle-ms': 1500 };
const servers = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg.startsWith('--')) {
    const name = arg.slice(2);
    if (!(name in options)) fail(`unknown option ${arg}; known: ${Object.keys(options).map((o) => `--${o}`).join(', ')}`);
    const value = Number(args[++i]);
    if (!(value >= 0) || (name === 'rounds' && !(value >= 1))) fail(`${arg} needs a ${name === 'rounds' ? 'positive' : 'non-negative'} number, got ${args[i]}`);
    options[name] = value;
  } else {
    const eq = arg.indexOf('=');
    if (eq <= 0 || !arg.slice(eq + 1).trim()) fail(`"${arg}" is not NAME=COMMAND`);
    servers.push({ name: arg.slice(0, eq), command: arg.slice(eq + 1) });
  }
}
if (servers.length === 0) fail('give at least one NAME=COMMAND (usage at the top of benchmarks/memory/idle-rss.mjs)');
const { rounds, load: loadSeconds, 'idle-ms': idleMs } = options;

const MiB = 1024 * 1024;

function rssOf(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
}

function childrenOf(pid) {
  const kids = [];
  let tasks = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return kids; }
  for (const tid of tasks) {
    try {
      for (const word of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (word.trim()) kids.push(Number(word));
    } catch { /* gone */ }
  }
  return kids;
}

/** The node process under `sh -c` (sh execs the last command, but not always). */
function serverRoot(shPid) {
  let comm;
  try { comm = readFileSync(`/proc/${shPid}/comm`, 'utf8').trim(); } catch { throw new Error(`the server (pid ${shPid}) exited before it was measured`); }
  if (comm === 'node') return shPid;
  return childrenOf(shPid)[0] ?? shPid;
}

function tree(root) {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...childrenOf(pids[i]));
  return pids;
}

function usage(root) {
  const pids = tree(root);
  const rss = pids.map(rssOf);
  return { processes: pids.length, tree: rss.reduce((a, b) => a + b, 0), root: rss[0], children: rss.slice(1).reduce((a, b) => a + b, 0) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

function get(port) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', () => resolve(0));
    request.setTimeout(2000, () => request.destroy());
  });
}

async function measure({ name, command }) {
  const port = await freePort();
  const child = spawn('sh', ['-c', command], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 30_000;
    while (await get(port) !== 200) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name}: did not answer on port ${port}`);
      await sleep(100);
    }
    await sleep(idleMs);
    const root = serverRoot(child.pid);
    const idle = usage(root);
    let peak = null;
    let requestsPerSecond = null;
    if (loadSeconds > 0) {
      peak = 0;
      const timer = setInterval(() => { peak = Math.max(peak, usage(root).tree); }, 100);
      try {
        const { stdout } = await promisify(execFile)('wrk', ['-t1', '-c32', `-d${loadSeconds}s`, `http://127.0.0.1:${port}/`], { timeout: (loadSeconds + 15) * 1000 });
        requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      } finally {
        clearInterval(timer);
      }
    }
    return { idle, peak, requestsPerSecond };
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([exited, sleep(10_000)]);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mib = (bytes) => Math.round(bytes / MiB * 10) / 10;

const results = new Map(servers.map((s) => [s.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const server of servers) {
    const result = await measure(server);
    results.get(server.name).push(result);
    process.stderr.write(`round ${round} ${server.name}: idle ${mib(result.idle.tree)} MiB (${result.idle.processes} processes)${result.peak === null ? '' : `, peak under load ${mib(result.peak)} MiB, ${Math.round(result.requestsPerSecond)} req/s`}\n`);
  }
}

const rows = servers.map(({ name }) => {
  const list = results.get(name);
  return {
    server: name,
    processes: list[0].idle.processes,
    idleTreeMiB: mib(median(list.map((r) => r.idle.tree))),
    idleRootMiB: mib(median(list.map((r) => r.idle.root))),
    idleChildrenMiB: mib(median(list.map((r) => r.idle.children))),
    idleRoundsMiB: list.map((r) => mib(r.idle.tree)),
    ...(loadSeconds > 0 ? { peakUnderLoadMiB: mib(median(list.map((r) => r.peak))), peakRoundsMiB: list.map((r) => mib(r.peak)), requestsPerSecond: Math.round(median(list.map((r) => r.requestsPerSecond))) } : {}),
  };
});
for (const row of rows) {
  process.stdout.write(`${row.server}: idle tree ${row.idleTreeMiB} MiB (root ${row.idleRootMiB}, children ${row.idleChildrenMiB}; rounds ${row.idleRoundsMiB.join(', ')})`
    + (row.peakUnderLoadMiB === undefined ? '' : `; peak under load ${row.peakUnderLoadMiB} MiB (rounds ${row.peakRoundsMiB.join(', ')}), ${row.requestsPerSecond} req/s`) + '\n');
}
process.stdout.write(`${JSON.stringify({ name: 'idle-rss', rounds, loadSeconds, rows })}\n`);
