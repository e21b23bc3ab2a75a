#!/usr/bin/env node
// Memory of idle WebSockets: for each target, the server's tree RSS before and after N idle
// WebSockets are open on /echo (examples/websocket under Gatehouse, the `ws` peer on
// node:http), and the difference per connection in KiB. The sockets are opened by client
// processes (client.mjs), never by the server's, at most 200 handshakes at once per process,
// from several loopback source addresses so ephemeral ports do not run short. Rounds
// interleave the targets (A B C A B C); medians are printed with each round. Needs the build.
//
//   ulimit -n 30000    # the server and each client process hold one descriptor per socket
//   node benchmarks/websocket/idle.mjs [--connections 10000] [--rounds 1] [--clients 2] [--settle 3] \
//     [--targets gatehouse-single,ws-node-http,gatehouse-threaded-2] [--sources 4]
//
// --sources N uses 127.0.0.1 .. 127.0.0.N (all of 127/8 is loopback on Linux). Targets: see
// TARGETS in targets.mjs.
import { TARGETS, fail, median, openFilesLimit, parseOptions, sleep, startClient, startTarget, stopTarget, treeUsage } from './targets.mjs';

const options = parseOptions(process.argv.slice(2), {
  connections: 10_000, rounds: 1, clients: 2, settle: 3, sources: 4, targets: 'gatehouse-single,ws-node-http,gatehouse-threaded-2',
});
const targets = options.targets.split(',');
for (const name of targets) if (!(name in TARGETS)) fail(`unknown target ${name}; known: ${Object.keys(TARGETS).join(', ')}`);
const needed = options.connections + 1000;
if (openFilesLimit() < needed) fail(`open files limit ${openFilesLimit()} is below ${needed} for ${options.connections} sockets: run \`ulimit -n ${needed}\` (or higher) in this shell first`);
const localAddresses = Array.from({ length: options.sources }, (_, i) => `127.0.0.${i + 1}`);
const KiB = 1024;
const results = Object.fromEntries(targets.map((name) => [name, []]));

for (let round = 1; round <= options.rounds; round++) {
  for (const name of targets) {
    const target = await startTarget(name);
    const clients = [];
    try {
      await sleep(options.settle * 1000);
      const before = treeUsage(target.child.pid).rssBytes;
      const share = Math.ceil(options.connections / options.clients);
      for (let i = 0; i < options.clients; i++) {
        clients.push(startClient({ mode: 'idle', url: target.wsUrl, connections: Math.min(share, options.connections - i * share), localAddresses }));
      }
      const started = Date.now();
      const opened = await Promise.all(clients.map((client) => client.next('opened')));
      const openSeconds = (Date.now() - started) / 1000;
      const open = opened.reduce((sum, o) => sum + o.opened, 0);
      const failed = opened.reduce((sum, o) => sum + o.failed, 0);
      await sleep(options.settle * 1000);
      const after = treeUsage(target.child.pid).rssBytes;
      const perConnection = (after - before) / open / KiB;
      results[name].push({ before, after, open, failed, perConnection });
      const why = failed ? ` (${failed} failed: ${opened.find((o) => o.firstError)?.firstError})` : '';
      console.log(`round ${round} ${name}: ${open} open in ${openSeconds.toFixed(1)} s${why}; RSS ${(before / KiB / KiB).toFixed(1)} -> ${(after / KiB / KiB).toFixed(1)} MiB, ${perConnection.toFixed(1)} KiB per connection`);
    } finally {
      for (const client of clients) client.send({ type: 'close' });
      await Promise.all(clients.map((client) => client.exited));
      await stopTarget(target);
    }
  }
}

console.log(`\nmedians over ${options.rounds} round(s), ${options.connections} idle WebSockets:`);
console.log('| target | RSS before (MiB) | RSS after (MiB) | per connection (KiB) |');
console.log('| --- | ---: | ---: | ---: |');
for (const name of targets) {
  const rows = results[name];
  const mib = (key) => (median(rows.map((r) => r[key])) / KiB / KiB).toFixed(1);
  console.log(`| ${name} | ${mib('before')} | ${mib('after')} | ${median(rows.map((r) => r.perConnection)).toFixed(1)} |`);
}
