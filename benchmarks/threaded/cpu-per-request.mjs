// CPU time per request, by thread, for one server under wrk: steadier than requests/s on a
// shared machine, since it does not count the time other processes take from the cores.
// Read from /proc/<pid>/task/*/stat (utime + stime) around one wrk run, after a warm-up.
//   node benchmarks/threaded/cpu-per-request.mjs [threaded|threaded-base|prefork|hybrid|node:http] [seconds] [connections] [thread-concurrency]
// "main" is the server process's main thread; "other threads" are its app threads and V8's and
// libuv's helpers; "children" are worker processes (prefork, hybrid: their main threads, app
// threads and helpers alike). Also context switches per request (voluntary + involuntary, from
// /proc/<pid>/task/*/status): each one is a thread that slept and was woken, or was preempted;
// and the RSS of the process tree once the run is over.
// hybrid runs UNITS processes of THREADS app threads (THREADS in the environment, default 2).
// Needs wrk; Linux only.
// APP, URL_PATH, WRK_SCRIPT (a wrk Lua script: a method and body) and PEER (the node:http peer's
// scenario, default hello) in the environment choose the request:
//   APP=benchmarks/scenarios/echo.mjs WRK_SCRIPT=benchmarks/threaded/post-1k.lua PEER=echo node benchmarks/threaded/cpu-per-request.mjs threaded
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const [kind = 'threaded', seconds = '5', connections = '64', threadConcurrency] = process.argv.slice(2);
const app = process.env.APP ?? path.join(root, 'examples/hello/app.js');
const urlPath = process.env.URL_PATH ?? '/';
const port = await new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const argv = kind === 'node:http'
  ? [path.join(root, `benchmarks/peers/node-http-${process.env.PEER ?? 'hello'}.mjs`)]
  : [path.join(here, 'launch.mjs'), kind, app, String(port), '2', ...(threadConcurrency ? [threadConcurrency] : [])];
const child = spawn(process.execPath, argv, { stdio: 'inherit', env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' } });
const url = `http://127.0.0.1:${port}${urlPath}`;
for (let i = 0; i < 150; i++) {
  try { await (await fetch(url)).arrayBuffer(); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
}
const TICKS = 100; // USER_HZ

function descendants(rootPid) {
  const found = [rootPid];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (found.includes(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))) found.push(Number(entry));
    } catch { /* gone */ }
  }
  return found;
}

/** task -> { group, ticks, switches } */
function sample() {
  const tasks = new Map();
  for (const pid of descendants(child.pid)) {
    let ids = [];
    try { ids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of ids) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const group = pid !== child.pid ? 'children' : tid === String(pid) ? 'main' : 'other threads';
        const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        const switches = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        tasks.set(`${pid}/${tid}`, { group, ticks: Number(fields[11]) + Number(fields[12]), switches });
      } catch { /* gone */ }
    }
  }
  return tasks;
}

const script = process.env.WRK_SCRIPT ? ['-s', process.env.WRK_SCRIPT] : [];
execFileSync('wrk', ['-t1', `-c${connections}`, '-d2s', ...script, url]);
const before = sample();
const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, ...script, url]).toString();
const after = sample();
let rssKiB = 0;
for (const pid of descendants(child.pid)) {
  try { rssKiB += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
}
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
const requests = rps * Number(seconds);
const groups = new Map();
for (const [id, { group, ticks }] of after) groups.set(group, (groups.get(group) ?? 0) + ticks - (before.get(id)?.ticks ?? 0));
const micros = (ticks) => ((ticks / TICKS) * 1e6 / requests).toFixed(1);
const total = [...groups.values()].reduce((a, b) => a + b, 0);
let switches = 0;
for (const [id, task] of after) switches += task.switches - (before.get(id)?.switches ?? 0);
console.log(`${kind}${threadConcurrency ? ` c${threadConcurrency}` : ''}: ${rps.toFixed(0)} req/s; CPU µs per request: total ${micros(total)}, `
  + [...groups].filter(([, t]) => t > 0).map(([g, t]) => `${g} ${micros(t)}`).join(', ')
  + `; context switches per request ${(switches / requests).toFixed(2)}; RSS of the tree after the run ${(rssKiB / 1024).toFixed(0)} MiB`);
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
