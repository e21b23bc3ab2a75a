#!/usr/bin/env node
// Peak memory of a reload by strategy: `serve examples/hello/app.js --engine prefork --workers N`,
// idle, then HUP; the RSS of the whole process tree (master + workers, /proc, as `serve bench`
// reads it) is sampled every 50 ms from 1 s before the HUP until the old workers have exited.
// Reports per run: steady RSS before, peak during the reload, their ratio, the most processes
// alive, and how long the reload took (HUP to the `reloaded` log line). Runs alternate the
// strategies so machine noise falls on both.
//   node benchmarks/prefork/reload-memory.mjs [runs=3] [workers=4]   (build first; no wrk needed)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 3);
const workers = Number(process.argv[3] ?? 4);
const root = fileURLToPath(new URL('../../', import.meta.url));
const { treeUsage } = await import(new URL('../../packages/bench/dist/src/proctree.js', import.meta.url).href);
const { median } = await import(new URL('../../packages/bench/dist/src/index.js', import.meta.url).href);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MiB = 1024 * 1024;

async function measure(strategy) {
  const child = spawn(process.execPath, [`${root}packages/cli/bin/serve.js`, `${root}examples/hello/app.js`, '--engine', 'prefork',
    '--workers', String(workers), '--bind', '127.0.0.1:0', '--reload-strategy', strategy, '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const ready = await new Promise((resolve, reject) => {
    child.on('message', (m) => { if (m?.type === 'gatehouse:ready') resolve(m); });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${log}`)));
  });
  // Warm the workers a little, then let them settle.
  for (let i = 0; i < 200; i++) await (await fetch(`${ready.addresses[0]}/`)).text();
  await sleep(1000);
  const samples = [];
  const timer = setInterval(() => samples.push(treeUsage(child.pid)), 50);
  await sleep(1000);
  const steady = median(samples.map((s) => s.rssBytes));
  const before = samples.length;
  const hupAt = performance.now();
  const logged = log.length;
  child.kill('SIGHUP');
  while (!log.slice(logged).includes('"event":"reloaded"') && performance.now() - hupAt < 60_000) await sleep(10);
  const reloadMs = performance.now() - hupAt;
  while (treeUsage(child.pid).pids.length > workers + 1 && performance.now() - hupAt < 60_000) await sleep(50);
  await sleep(100);
  clearInterval(timer);
  const during = samples.slice(before);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  const peak = Math.max(...during.map((s) => s.rssBytes));
  return { strategy, steadyMiB: steady / MiB, peakMiB: peak / MiB, ratio: peak / steady, maxProcesses: Math.max(...during.map((s) => s.pids.length)), reloadMs };
}

const results = [];
for (let run = 1; run <= runs; run++) {
  for (const strategy of run % 2 ? ['rolling', 'generation'] : ['generation', 'rolling']) {
    const r = await measure(strategy);
    results.push(r);
    console.log(`run ${run} ${r.strategy.padEnd(10)} steady ${r.steadyMiB.toFixed(0)} MiB, peak ${r.peakMiB.toFixed(0)} MiB (x${r.ratio.toFixed(2)}), ${r.maxProcesses} processes at most, reload ${r.reloadMs.toFixed(0)} ms`);
  }
}
for (const strategy of ['rolling', 'generation']) {
  const mine = results.filter((r) => r.strategy === strategy);
  console.log(`median ${strategy.padEnd(10)} steady ${median(mine.map((r) => r.steadyMiB)).toFixed(0)} MiB, peak ${median(mine.map((r) => r.peakMiB)).toFixed(0)} MiB (x${median(mine.map((r) => r.ratio)).toFixed(2)}), reload ${median(mine.map((r) => r.reloadMs)).toFixed(0)} ms`);
}
