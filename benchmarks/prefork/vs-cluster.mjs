#!/usr/bin/env node
// The prefork engine's load figure: examples/hello under the prefork engine with 2 workers against
// node:cluster with 2 workers running a plain node:http hello server
// (benchmarks/peers/node-cluster-hello.mjs), wrk -t2 -c64 -d10s --latency on loopback,
// alternating rounds, medians of req/s and p99, and each server's RSS (master and workers)
// read from /proc after each round.
//   node benchmarks/prefork/vs-cluster.mjs [rounds=3] [seconds=10]   (needs wrk; build first)
import { fork, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const root = fileURLToPath(new URL('../../', import.meta.url));
// wrk's output is read, and medians taken, as `serve bench` does (packages/bench, built).
const { parseWrkOutput, median } = await import(new URL('../../packages/bench/dist/src/index.js', import.meta.url).href);
const targets = {
  prefork: (port) => fork(fileURLToPath(new URL('./serve-prefork.mjs', import.meta.url)), [`${root}examples/hello/app.js`, String(port), '2'], { stdio: 'ignore' }),
  'node-cluster': (port) => fork(`${root}benchmarks/peers/node-cluster-hello.mjs`, [], { stdio: 'ignore', env: { ...process.env, PORT: String(port), WORKERS: '2' } }),
};

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const children = (pid) => fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answers on ${port}`);
}


const results = { prefork: [], 'node-cluster': [] };
let port = 20000 + Math.floor(Math.random() * 20000);
for (let round = 1; round <= rounds; round++) {
  for (const [name, start] of Object.entries(targets)) {
    port++;
    const child = start(port);
    await waitForPort(port);
    execFileSync('wrk', ['-t2', '-c64', '-d2s', `http://127.0.0.1:${port}/`]); // warm-up, not measured
    const out = execFileSync('wrk', ['-t2', '-c64', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`]).toString();
    const workers = children(child.pid);
    const rss = { master: rssKiB(child.pid), workers: workers.reduce((sum, pid) => sum + rssKiB(pid), 0), count: workers.length };
    const { rps, latencyMs: { p99 } } = parseWrkOutput(out); // p99 NaN when wrk printed none (a failed round)
    const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? /Non-2xx.*/.exec(out)?.[0] ?? '';
    results[name].push({ rps, p99, rss, errors });
    console.error(`round ${round} ${name}: ${rps.toFixed(0)} req/s, p99 ${p99.toFixed(2)} ms, RSS master ${(rss.master / 1024).toFixed(1)} MiB + ${rss.count} workers ${(rss.workers / 1024).toFixed(1)} MiB${errors ? `, ${errors}` : ''}`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
const summary = Object.fromEntries(Object.entries(results).map(([name, runs]) => [name, {
  rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99)),
  master: median(runs.map((r) => r.rss.master)) / 1024, workers: median(runs.map((r) => r.rss.workers)) / 1024,
}]));
const p = summary.prefork, c = summary['node-cluster'];
console.log('| target (2 workers) | req/s (median of ' + rounds + ') | p99 ms | master RSS MiB | workers RSS MiB (sum) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, s] of Object.entries(summary)) console.log(`| ${name} | ${s.rps.toFixed(0)} | ${s.p99.toFixed(2)} | ${s.master.toFixed(1)} | ${s.workers.toFixed(1)} |`);
console.log(`\nprefork / node-cluster: ${(p.rps / c.rps).toFixed(2)}x req/s, p99 ${(p.p99 / c.p99).toFixed(2)}x`);
