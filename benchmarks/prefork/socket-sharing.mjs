#!/usr/bin/env node
// How should a prefork master share its listening sockets with workers? This compares, with
// the same plain node:http hello server in 2 workers:
//   cluster-rr     node:cluster SCHED_RR   (primary accepts, passes each socket to a worker)
//   cluster-none   node:cluster SCHED_NONE (workers accept on the primary's shared handle)
//   fork-accept    child_process.fork; master binds + accepts, send(msg, socket) round-robin
//   fork-handle    child_process.fork; master binds, send(msg, server) once, workers accept
// Usage: node benchmarks/prefork/socket-sharing.mjs [rounds=3] [seconds=5]   (needs wrk on PATH)
// Prints per-mode medians for keep-alive (-c64) and connection-per-request (Connection: close).
import cluster from 'node:cluster';
import { fork, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

const WORKERS = 2;
const hello = (req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 }); res.end('Hello, World!'); };
const role = process.env.SHARE_ROLE;

if (role === 'cluster-primary') {
  cluster.schedulingPolicy = process.env.SHARE_POLICY === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) cluster.fork({ SHARE_ROLE: 'cluster-worker' }).on('listening', (a) => { if (++listening === WORKERS) process.send({ port: a.port }); });
} else if (role === 'cluster-worker') {
  http.createServer(hello).listen(Number(process.env.SHARE_PORT), '127.0.0.1');
} else if (role === 'fork-master') {
  const mode = process.env.SHARE_POLICY;
  const server = net.createServer({ pauseOnConnect: true });
  let masterAccepted = 0;
  server.listen(0, '127.0.0.1', () => {
    const children = [];
    let ready = 0;
    for (let i = 0; i < WORKERS; i++) {
      const child = fork(process.argv[1], { env: { ...process.env, SHARE_ROLE: 'fork-worker' } });
      children.push(child);
      child.on('message', (m) => {
        if (m === 'ready' && ++ready === WORKERS) process.send({ port: server.address().port });
        if (m === 'stats') child.send({ masterAccepted });
      });
      if (mode === 'handle') child.send('listen', server);
    }
    let next = 0;
    server.on('connection', (socket) => {
      masterAccepted++;
      children[next++ % WORKERS].send('conn', socket, { keepOpen: false });
    });
    process.on('message', (m) => { if (m === 'stats') process.send({ masterAccepted }); });
  });
} else if (role === 'fork-worker') {
  process.on('disconnect', () => process.exit(0)); // the master was killed: do not linger
  const server = http.createServer(hello);
  process.on('message', (m, handle) => {
    if (m === 'listen') server.listen(handle);
    else if (m === 'conn') { server.emit('connection', handle); handle.resume(); }
  });
  process.send('ready');
} else {
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const modes = [['cluster-rr', 'cluster-primary', 'rr'], ['cluster-none', 'cluster-primary', 'none'], ['fork-accept', 'fork-master', 'accept'], ['fork-handle', 'fork-master', 'handle']];
  const results = {};
  const port = 18000 + Math.floor(Math.random() * 1000);
  for (let r = 0; r < rounds; r++) {
    for (const [name, r0, policy] of modes) {
      const master = fork(process.argv[1], { env: { ...process.env, SHARE_ROLE: r0, SHARE_POLICY: policy, SHARE_PORT: String(port) } });
      const { port: p } = await new Promise((res) => master.once('message', res));
      for (const [load, extra] of [['keepalive', []], ['close', ['-H', 'Connection: close']]]) {
        const out = execFileSync('wrk', ['-t2', '-c64', `-d${seconds}s`, '--latency', ...extra, `http://127.0.0.1:${p}/`]).toString();
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
        const p99 = /99%\s+([\d.]+\w+)/.exec(out)[1];
        const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
        (results[`${name} ${load}`] ??= []).push({ rps, p99, errors });
      }
      let masterAccepted = '';
      if (r0 === 'fork-master') { master.send('stats'); masterAccepted = (await new Promise((res) => master.once('message', res))).masterAccepted; }
      master.kill('SIGKILL');
      if (r0 === 'cluster-primary') execFileSync('sh', ['-c', `pkill -P ${master.pid} || true`]);
      await new Promise((res) => setTimeout(res, 300));
      console.error(`round ${r + 1} ${name} done${masterAccepted !== '' ? ` (master accepted ${masterAccepted})` : ''}`);
    }
  }
  for (const [key, runs] of Object.entries(results)) {
    const sorted = runs.map((x) => x.rps).sort((a, b) => a - b);
    console.log(`${key.padEnd(24)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} req/s  runs ${runs.map((x) => `${x.rps.toFixed(0)} (p99 ${x.p99}${x.errors ? `, errors ${x.errors}` : ''})`).join(', ')}`);
  }
  process.exit(0);
}
