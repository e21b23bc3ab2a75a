#!/usr/bin/env node
// A/B runs of any servers in interleaved rounds (A B C A B C ...), so that drift on a shared
// machine lands on every server alike: each NAME=COMMAND starts one server whose port is
// $PORT; per round each is started, warmed up (wrk 2 s), measured (wrk --latency) and stopped.
// Prints each round, then medians of req/s and p99 with ratios to the first server. Needs wrk and the build.
//
//   node benchmarks/interleave.mjs [--rounds 3] [--duration 8] [--connections 64] [--threads 2] [--path /] [--script FILE.lua] \
//     'after=node benchmarks/prefork/serve-prefork.mjs examples/hello/app.js $PORT 2' \
//     'before=node ../before/benchmarks/prefork/serve-prefork.mjs examples/hello/app.js $PORT 2' \
//     'cluster=PORT=$PORT WORKERS=2 node benchmarks/peers/node-cluster-hello.mjs'
//
// --script gives wrk a Lua script (a method and body: benchmarks/threaded/post-1k.lua).
// "before" here is an earlier commit built in a git worktree:
//   git worktree add ../before COMMIT && (cd ../before && npx --yes pnpm@10.34.8 install && npx --yes pnpm@10.34.8 build)
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';

const args = process.argv.slice(2);
const options = { rounds: 3, duration: 8, connections: 64, threads: 2, path: '/', script: '' };
const TEXT_OPTIONS = new Set(['path', 'script']);
const targets = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg.startsWith('--')) {
    const name = arg.slice(2);
    if (!(name in options)) fail(`unknown option ${arg}; known: ${Object.keys(options).map((o) => `--${o}`).join(', ')}`);
    const value = args[++i];
    options[name] = TEXT_OPTIONS.has(name) ? value : Number(value);
    if (!TEXT_OPTIONS.has(name) && !(options[name] > 0)) fail(`${arg} needs a positive number, got ${value}`);
  } else {
    const eq = arg.indexOf('=');
    if (eq <= 0 || !arg.includes('$PORT')) fail(`"${arg}" is not NAME=COMMAND with $PORT in the command`);
    targets.push({ name: arg.slice(0, eq), command: arg.slice(eq + 1), rounds: [] });
  }
}
if (targets.length === 0) fail('give at least one NAME=COMMAND (see the comment at the top of this file)');
// wrk's output is read, and medians taken, as `serve bench` does (packages/bench).
const benchBuild = new URL('../packages/bench/dist/src/index.js', import.meta.url);
const { parseWrkOutput, median } = await import(benchBuild.href).catch(() => fail(`${benchBuild.pathname} is missing: build first (npx --yes pnpm@10.34.8 build)`));
try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }); } catch (error) { if (error.code === 'ENOENT') fail('wrk is not installed (apt-get install -y wrk)'); }

function fail(message) {
  console.error(`interleave: ${message}`);
  process.exit(2);
}

/** A port the kernel just gave out, so no fixed range collides with what else runs here. */
const freePort = () => new Promise((resolve, reject) => {
  const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

async function waitForServer(url, child, name) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before answering at ${url}`);
    try { if ((await fetch(url)).status < 500) return; } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name}: nothing answers at ${url} after 30 s`);
}

const wrk = (url, seconds, latency) => execFileSync('wrk', [
  `-t${options.threads}`, `-c${options.connections}`, `-d${seconds}s`, ...(latency ? ['--latency'] : []), ...(options.script ? ['-s', options.script] : []), url,
]).toString();

for (let round = 1; round <= options.rounds; round++) {
  for (const target of targets) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}${options.path}`;
    // Its own process group, so that stopping it stops whatever it forked.
    const child = spawn('bash', ['-c', target.command.replaceAll('$PORT', String(port))], { stdio: 'ignore', detached: true });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitForServer(url, child, target.name);
      wrk(url, 2, false);
      const out = wrk(url, options.duration, true);
      const report = parseWrkOutput(out);
      const { rps } = report;
      const p99 = report.latencyMs.p99;
      const errors = Object.entries(report.socketErrors).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(', ');
      target.rounds.push({ rps, p99 });
      console.error(`round ${round} ${target.name}: ${rps.toFixed(0)} req/s, p99 ${p99.toFixed(2)} ms${errors ? `, socket errors: ${errors}` : ''}`);
    } finally {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await exited;
    }
  }
}

const rows = targets.map((t) => ({ name: t.name, rps: median(t.rounds.map((r) => r.rps)), p99: median(t.rounds.map((r) => r.p99)) }));
const base = rows[0];
console.log(`wrk -t${options.threads} -c${options.connections} -d${options.duration}s${options.script ? ` -s ${options.script}` : ''}, ${options.rounds} interleaved rounds, medians; ratios to ${base.name}`);
console.log('| server | req/s | p99 ms | req/s ratio | p99 ratio |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(`| ${row.name} | ${Math.round(row.rps).toLocaleString('en-US')} | ${row.p99.toFixed(2)} | ${(row.rps / base.rps).toFixed(2)}x | ${(row.p99 / base.p99).toFixed(2)}x |`);
