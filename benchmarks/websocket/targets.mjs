// What the WebSocket benchmarks start and measure: a target is a server (Gatehouse under an
// engine with examples/websocket, or the `ws` peer) started as its own process tree on a free
// loopback port, answered over HTTP before it is used, and stopped with its tree. Its cost is
// read from /proc over the tree (packages/bench's proctree). Clients are separate processes
// (client.mjs) so the server's figures never include them.
import { spawn, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const proctree = new URL('../../packages/bench/dist/src/proctree.js', import.meta.url);
export const { treeUsage } = await import(proctree.href).catch(() => fail(`${proctree.pathname} is missing: build first (npx --yes pnpm@10.34.8 build)`));
const LAUNCH = `${root}benchmarks/threaded/launch.mjs`;
const PEER = `${root}benchmarks/websocket/peer.mjs`;
const APP = `${root}examples/websocket/app.js`;
const CLIENT = `${root}benchmarks/websocket/client.mjs`;

/** Every target by name: how to start it on PORT. */
export const TARGETS = {
  'gatehouse-single': (port) => [process.execPath, [LAUNCH, 'single', APP, port]],
  'gatehouse-threaded-2': (port) => [process.execPath, [LAUNCH, 'threaded', APP, port, '2']],
  'gatehouse-prefork-2': (port) => [process.execPath, [LAUNCH, 'prefork', APP, port, '2']],
  'ws-node-http': (port) => [process.execPath, [PEER], { PORT: String(port) }],
  'ws-node-cluster-2': (port) => [process.execPath, [PEER], { PORT: String(port), WORKERS: '2' }],
};

// GATEHOUSE_BASE=DIR (another built checkout, e.g. a copy of main) adds base-* targets that run
// DIR's Gatehouse and example, so a change is measured against the code before it in one run.
const base = process.env.GATEHOUSE_BASE;
if (base) {
  for (const [name, engine] of [['base-single', 'single'], ['base-threaded-2', 'threaded'], ['base-prefork-2', 'prefork']]) {
    TARGETS[name] = (port) => [process.execPath, [`${base}/benchmarks/threaded/launch.mjs`, engine, `${base}/examples/websocket/app.js`, port, '2']];
  }
}

export function fail(message) {
  console.error(`${process.argv[1].split('/').pop()}: ${message}`);
  process.exit(2);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port the kernel just gave out. */
const freePort = () => new Promise((resolve, reject) => {
  const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** The soft limit on open files this process (and what it starts) runs with. */
export function openFilesLimit() {
  const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line?.[1] === 'unlimited' ? Infinity : Number(line?.[1]);
}

/** Parses `--name value` options over `defaults` (numbers stay numbers); bad input fails with one line. */
export function parseOptions(argv, defaults) {
  const options = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(name in defaults)) fail(`unknown option ${argv[i]}; known: ${Object.keys(defaults).map((o) => `--${o}`).join(', ')}`);
    const value = argv[++i];
    if (typeof defaults[name] === 'number') {
      options[name] = Number(value);
      if (!(options[name] > 0)) fail(`--${name} needs a positive number, got ${value}`);
    } else {
      options[name] = value;
      if (value === undefined) fail(`--${name} needs a value`);
    }
  }
  return options;
}

/**
 * Starts target `name` in its own process group, with `nodeArgs` before its script (e.g.
 * --cpu-prof, which its workers inherit); resolves once it answers HTTP.
 */
export async function startTarget(name, nodeArgs = []) {
  const port = await freePort();
  const [command, args, env = {}] = TARGETS[name](port);
  const child = spawn(command, [...nodeArgs, ...args], { stdio: ['ignore', 'ignore', 'inherit'], detached: true, env: { ...process.env, ...env } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before answering at ${url}`);
    try {
      const response = await fetch(url, { headers: { connection: 'close' } });
      await response.arrayBuffer();
      if (response.ok) return { name, child, port, wsUrl: `ws://127.0.0.1:${port}/echo` };
    } catch { /* not yet */ }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name}: nothing answers at ${url} after 30 s`);
}

/** Stops a target and everything it started. */
export async function stopTarget(target) {
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  try { process.kill(-target.child.pid, 'SIGTERM'); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(-target.child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await exited;
  clearTimeout(timer);
  await sleep(300); // the workers of a tree exit after its root
}

/** A client process (client.mjs) with `options`; `next(type)` waits for its next message of that type. */
export function startClient(options) {
  const child = fork(CLIENT, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox = [];
  const waiting = [];
  child.on('message', (message) => {
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0].resolve(message); else inbox.push(message);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`client exited (${code}) while ${w.type} was awaited`));
  });
  return {
    child,
    send: (message) => child.send(message),
    next: (type) => {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0]);
      return new Promise((resolve, reject) => waiting.push({ type, resolve, reject }));
    },
    exited: new Promise((resolve) => child.once('exit', resolve)),
  };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
