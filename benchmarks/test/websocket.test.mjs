// benchmarks/websocket: bad input gets one line and exit code 2 before anything starts, and a
// short run of each script against real servers prints its figures (tiny counts: it checks the
// scripts work, not how fast anything is).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = (name) => fileURLToPath(new URL(`../websocket/${name}`, import.meta.url));
const run = (name, args, timeout = 10_000) => spawnSync(process.execPath, [script(name), ...args], { encoding: 'utf8', timeout, env: { ...process.env, GATEHOUSE_BASE: '' } });

describe('benchmarks/websocket: bad input', () => {
  const cases = [
    { name: 'echo.mjs', args: ['--round', '3'], says: /unknown option --round; known: --rounds, --duration/ },
    { name: 'echo.mjs', args: ['--duration', 'long'], says: /--duration needs a positive number, got long/ },
    { name: 'echo.mjs', args: ['--pairs', 'single,fork'], says: /unknown pair fork; known: single, threaded, prefork/ },
    { name: 'echo.mjs', args: ['--pairs', 'base-single'], says: /pair base-single needs GATEHOUSE_BASE=DIR/ },
    { name: 'idle.mjs', args: ['--targets', 'nginx'], says: /unknown target nginx; known: gatehouse-single/ },
    { name: 'idle.mjs', args: ['--connections', '100000000'], says: /open files limit \d+ is below 100001000 .*ulimit -n 100001000/ },
  ];
  for (const { name, args, says } of cases) {
    it(`${name} ${args.join(' ')}: exit 2 and one line`, () => {
      const result = run(name, args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, says);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    });
  }
});

describe('benchmarks/websocket: a short run', { timeout: 120_000 }, () => {
  it('echo.mjs measures Gatehouse and its peer and prints the ratio', () => {
    const result = run('echo.mjs', ['--rounds', '1', '--duration', '1', '--warmup', '1', '--connections', '4', '--pairs', 'single'], 60_000);
    assert.equal(result.status, 0, result.stderr);
    for (const target of ['gatehouse-single', 'ws-node-http']) {
      const round = new RegExp(`round 1 ${target}: (\\d+) msg/s, p99 [\\d.]+ ms`).exec(result.stdout);
      assert.ok(round, `a round line for ${target}:\n${result.stdout}`);
      assert.ok(Number(round[1]) > 0, `${target} echoed messages`);
    }
    assert.match(result.stdout, /\| gatehouse-single \/ ws-node-http \| [\d.]+x \| [\d.]+x \| [\d.]+x \|/);
  });

  it('idle.mjs opens the sockets from client processes and reports RSS per connection', () => {
    const result = run('idle.mjs', ['--connections', '40', '--settle', '1', '--targets', 'gatehouse-single,ws-node-http', '--sources', '2'], 60_000);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /round 1 gatehouse-single: 40 open in [\d.]+ s; RSS [\d.]+ -> [\d.]+ MiB/);
    assert.match(result.stdout, /round 1 ws-node-http: 40 open in/);
    assert.match(result.stdout, /\| ws-node-http \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \|/);
  });
});
