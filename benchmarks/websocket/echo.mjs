#!/usr/bin/env node
// WebSocket echo throughput: C clients (one WebSocket each, spread over client processes)
// each send a 1 KiB binary message and send the next when its echo comes back, for D seconds
// after a warm-up. Per target and round: messages/s, p99 round trip, the server tree's CPU
// (also per message echoed, the figure least moved by other load on the machine) and the
// clients' CPU (so a saturated client shows). Rounds interleave the targets; the
// summary gives medians and each pair's ratio (Gatehouse / its peer: above 1, Gatehouse
// echoes more). Needs the build.
//
//   node benchmarks/websocket/echo.mjs [--rounds 3] [--duration 8] [--warmup 2] [--connections 64] \
//     [--clients 2] [--size 1024] [--pairs single,threaded,prefork] [--profile DIR]
//
// --profile DIR runs every server with --cpu-prof, its profiles (one per process and thread)
// written under DIR/<target>/.
// Pairs: single = gatehouse-single vs ws-node-http; threaded = gatehouse-threaded-2 vs
// ws-node-http; prefork = gatehouse-prefork-2 vs ws-node-cluster-2 (targets.mjs). With
// GATEHOUSE_BASE=DIR (a built checkout of the code before a change), base-single,
// base-threaded and base-prefork run DIR's Gatehouse against the same peers in the same rounds.
import { fail, median, parseOptions, sleep, startClient, startTarget, stopTarget, treeUsage } from './targets.mjs';

const PAIRS = {
  single: ['gatehouse-single', 'ws-node-http'],
  threaded: ['gatehouse-threaded-2', 'ws-node-http'],
  prefork: ['gatehouse-prefork-2', 'ws-node-cluster-2'],
  // With GATEHOUSE_BASE set (targets.mjs): the base checkout against the same peers.
  'base-single': ['base-single', 'ws-node-http'],
  'base-threaded': ['base-threaded-2', 'ws-node-http'],
  'base-prefork': ['base-prefork-2', 'ws-node-cluster-2'],
};
const options = parseOptions(process.argv.slice(2), {
  rounds: 3, duration: 8, warmup: 2, connections: 64, clients: 2, size: 1024, pairs: 'single,threaded,prefork', profile: '',
});
const pairs = options.pairs.split(',');
for (const pair of pairs) {
  if (!(pair in PAIRS)) fail(`unknown pair ${pair}; known: ${Object.keys(PAIRS).join(', ')}`);
  if (pair.startsWith('base-') && !process.env.GATEHOUSE_BASE) fail(`pair ${pair} needs GATEHOUSE_BASE=DIR, a built checkout to compare against`);
}
const targets = [...new Set(pairs.flatMap((pair) => PAIRS[pair]))];
const results = Object.fromEntries(targets.map((name) => [name, []]));

/** The p-th percentile (0..1) of merged sparse histograms [[bucket, count], ...]. */
function percentile(histograms, bucketMs, p) {
  const counts = new Map();
  for (const histogram of histograms) for (const [bucket, n] of histogram) counts.set(bucket, (counts.get(bucket) ?? 0) + n);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(bucket);
    if (seen >= p * total) return (bucket + 1) * bucketMs;
  }
  return Number.NaN;
}

async function measure(name) {
  const target = await startTarget(name, options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}/${name}`] : []);
  const clients = [];
  try {
    const share = Math.ceil(options.connections / options.clients);
    for (let i = 0; i < options.clients; i++) {
      clients.push(startClient({ mode: 'echo', url: target.wsUrl, connections: Math.min(share, options.connections - i * share), size: options.size }));
    }
    const ready = await Promise.all(clients.map((client) => client.next('ready')));
    const failed = ready.reduce((sum, r) => sum + r.failed, 0);
    if (failed) throw new Error(`${name}: ${failed} WebSockets did not open (${ready.find((r) => r.firstError)?.firstError})`);
    await sleep(options.warmup * 1000);
    for (const client of clients) client.send({ type: 'measure' });
    const serverCpuBefore = treeUsage(target.child.pid).cpuSec;
    await sleep(options.duration * 1000);
    for (const client of clients) client.send({ type: 'report' });
    const serverCpu = treeUsage(target.child.pid).cpuSec - serverCpuBefore;
    const reports = await Promise.all(clients.map((client) => client.next('report')));
    const seconds = median(reports.map((r) => r.seconds));
    const echoed = reports.reduce((sum, r) => sum + r.echoed, 0);
    return {
      rate: echoed / seconds,
      serverUs: serverCpu / echoed * 1e6,
      p99: percentile(reports.map((r) => r.histogram), reports[0].bucketMs, 0.99),
      serverCores: serverCpu / seconds,
      clientCores: reports.reduce((sum, r) => sum + r.cpuSec, 0) / seconds,
    };
  } finally {
    await Promise.all(clients.map((client) => client.exited));
    await stopTarget(target);
  }
}

for (let round = 1; round <= options.rounds; round++) {
  for (const name of targets) {
    const result = await measure(name);
    results[name].push(result);
    console.log(`round ${round} ${name}: ${result.rate.toFixed(0)} msg/s, p99 ${result.p99.toFixed(2)} ms, server CPU ${result.serverCores.toFixed(2)} cores (${result.serverUs.toFixed(1)} µs/msg), client CPU ${result.clientCores.toFixed(2)} cores`);
  }
}

const summary = Object.fromEntries(targets.map((name) => {
  const rows = results[name];
  const of = (key) => median(rows.map((r) => r[key]));
  return [name, { rate: of('rate'), p99: of('p99'), serverCores: of('serverCores'), serverUs: of('serverUs'), clientCores: of('clientCores') }];
}));
console.log(`\nmedians over ${options.rounds} rounds, ${options.connections} clients, ${options.size}-byte messages, ${options.duration} s each:`);
console.log('| target | msg/s | p99 (ms) | server CPU (cores) | server CPU per message (µs) | client CPU (cores) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const name of targets) {
  const s = summary[name];
  console.log(`| ${name} | ${s.rate.toFixed(0)} | ${s.p99.toFixed(2)} | ${s.serverCores.toFixed(2)} | ${s.serverUs.toFixed(1)} | ${s.clientCores.toFixed(2)} |`);
}
console.log('\n| pair | msg/s ratio | p99 ratio | CPU per message ratio |');
console.log('| --- | ---: | ---: | ---: |');
for (const pair of pairs) {
  const [ours, peer] = PAIRS[pair].map((name) => summary[name]);
  console.log(`| ${PAIRS[pair].join(' / ')} | ${(ours.rate / peer.rate).toFixed(2)}x | ${(ours.p99 / peer.p99).toFixed(2)}x | ${(ours.serverUs / peer.serverUs).toFixed(2)}x |`);
}
