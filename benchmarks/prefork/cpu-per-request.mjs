#!/usr/bin/env node
// One server under wrk, with its process tree's CPU time per request read from /proc: starts
// COMMAND (with $PORT and the environment's PORT set, WORKERS=2 for node:cluster peers), warms up
// (wrk 2 s), measures (wrk --latency for SECONDS) and prints one JSON line: req/s, p99, CPU µs
// per request of each process (the root first), their sum, RSS at idle (each process) and
// under load (the tree). Extra arguments go to wrk (e.g. -t1 -H 'Connection: close'). Needs wrk
// and the build. Interleave rounds yourself (docs/benchmarks.md has the loop of each run).
//   node benchmarks/prefork/cpu-per-request.mjs 'node benchmarks/prefork/serve-prefork.mjs examples/hello/app.js $PORT 2' 6 -t1 -H 'Connection: close'
//   NODE_CLUSTER_SCHED_POLICY=none node benchmarks/prefork/cpu-per-request.mjs 'node benchmarks/peers/node-cluster-hello.mjs' 6 -t1 -H 'Connection: close'
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
const [cmd, secs = '6', ...wrkArgs] = process.argv.slice(2);
// Below Linux's ephemeral range (32768-60999): wrk's churned client ports must not take it.
const port = 20000 + Math.floor(Math.random() * 12000);
const child = spawn('sh', ['-c', 'exec ' + cmd.replaceAll('$PORT', String(port))], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, PORT: String(port), WORKERS: '2' } });
const tree = (pid) => { let out = [pid]; try { for (const c of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...tree(Number(c))); } catch {} return out; };
const cpu = (pid) => { try { const t = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = t.slice(t.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; } catch { return 0; } };
const rss = (pid) => { try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return 0; } };
for (let i = 0; i < 200; i++) { try { await fetch(`http://127.0.0.1:${port}/`); break; } catch { await new Promise((r) => setTimeout(r, 50)); } }
await new Promise((r) => setTimeout(r, 300));
const idle = tree(child.pid).map((p) => rss(p));
const url = `http://127.0.0.1:${port}/`;
execFileSync('wrk', ['-c64', '-d2s', ...wrkArgs, url]);
const pids = tree(child.pid); const before = pids.map(cpu);
const out = execFileSync('wrk', ['-c64', `-d${secs}s`, '--latency', ...wrkArgs, url]).toString();
const after = pids.map(cpu); const load = pids.map(rss);
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]); const reqs = Number(/(\d+) requests in/.exec(out)[1]);
const p99 = /99%\s+([\d.]+\w+)/.exec(out)?.[1]; const errs = /Socket errors.*|Non-2xx.*/.exec(out)?.[0] ?? '';
const per = pids.map((p, i) => ((after[i] - before[i]) * 1e6 / reqs).toFixed(0));
console.log(JSON.stringify({ rps: Math.round(rps), p99, cpuUsPerReq: per, totalUs: per.reduce((a, b) => a + Number(b), 0), idleRss: idle.map((x) => x.toFixed(1)), loadRss: load.reduce((a, b) => a + b, 0).toFixed(1), errs }));
child.kill('SIGTERM'); setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} process.exit(0); }, 1500);
