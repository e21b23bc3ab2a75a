// `serve bench` end to end, for a couple of seconds: real servers as child processes, real
// load from autocannon (wrk is not needed), real report files. Speed is never asserted; that
// every engine started and served requests, and that the report says what a reader needs, is.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { benchMain, runBench } from '../src/index.js';
import { installedEngines } from '../src/plan.js';
import { repoRoot } from '../src/scenarios.js';
import { assertWellFormed, count } from './kit/report.js';
import type { BenchReport } from '../src/report/types.js';

const root = repoRoot()!;
const hello = join(root, 'examples', 'hello', 'app.js');
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function sink(): NodeJS.WriteStream & { text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  return Object.assign(stream as unknown as NodeJS.WriteStream, { text: () => text });
}

test('serve bench on examples/hello: every engine and the node-http peer start and serve requests, and the report says so', { timeout: 120_000 }, async () => {
  // Every engine: in this workspace all are installed, and one that fails to start fails the test.
  assert.deepEqual(installedEngines(), ['prefork', 'threaded', 'hybrid']);
  const engines = ['single', ...installedEngines()];
  const out = join(scratch, 'hello');
  const phases = new Set<string>();
  const report = await runBench({
    app: hello, engines, peers: ['node-http'], workers: 1, threads: 1, duration: 1, rounds: 2, warmup: 1,
    connections: 4, loadgen: 'autocannon', out, cwd: root, onProgress: (event) => phases.add(event.phase),
  });

  assert.equal(report.load.generator, 'autocannon');
  assert.deepEqual(report.targets.map((target) => target.name), [...engines, 'node-http']);
  for (const target of report.targets) {
    assert.equal(target.status, 'ok', `${target.name}: ${target.error}`);
    assert.equal(target.rounds.length, 2, `${target.name} ran both rounds`);
    assert.ok(target.summary!.rps.median > 0, `${target.name} served requests`);
    assert.ok(target.summary!.requests > 0);
    assert.equal(target.summary!.errors, 0, `${target.name} had no socket errors`);
    assert.equal(target.summary!.non2xx, 0, `${target.name} answered 200`);
    assert.ok(target.summary!.latencyMs.p50 <= target.summary!.latencyMs.max);
    if (process.platform === 'linux') {
      assert.ok(target.summary!.peakRssBytes > 10 * 1024 * 1024, `${target.name} peak RSS was sampled`);
      assert.ok(target.summary!.cpuSecPerRound > 0, `${target.name} used CPU`);
    }
  }
  // The peer is the default baseline; its own ratio is exactly 1.
  assert.equal(report.baseline, 'node-http');
  assert.equal(report.targets.find((target) => target.name === 'node-http')!.summary!.ratio, 1);
  for (const phase of ['start', 'ready', 'warmup', 'measure', 'measured', 'stop', 'done']) assert.ok(phases.has(phase), `progress reported ${phase}`);

  // report.json: the same report, re-readable by any JSON reader.
  const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
  assert.equal(json.schema, 'gatehouse-bench/1');
  assert.equal(json.app, 'examples/hello/app.js');
  assert.equal(json.scenario.name, 'hello');
  assert.ok(json.machine.cpus >= 1 && json.machine.node === process.version);
  for (const key of ['date', 'command', 'machine', 'load', 'baseline', 'targets', 'parallelism']) assert.ok(key in json, `report.json has ${key}`);
  const jsonTarget = json.targets[0]!;
  for (const key of ['name', 'kind', 'workers', 'threads', 'command', 'status', 'rounds', 'summary']) assert.ok(key in jsonTarget, `a target has ${key}`);
  for (const key of ['rps', 'latencyMs', 'errors', 'non2xx', 'cpuSecPerRound', 'cpuUsPerRequest', 'peakRssBytes', 'loadgenCpuSecPerRound', 'ratio']) {
    assert.ok(key in jsonTarget.summary!, `a summary has ${key}`);
  }

  // report.md: a Markdown table with one row per target, and the chart embedded.
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /^\| target \| procs x thr \| req\/s \|/m);
  assert.match(md, /^\|---\|---\|---:\|/m);
  for (const name of engines) assert.match(md, new RegExp(`^\\| ${name} \\| 1 x 1 \\| [\\d,]+ \\|`, 'm'));
  // How each target was started: commands a user can paste where they ran the bench (cwd is the
  // repository root here), with the CLI's program name, not a path inside this repository.
  for (const name of engines) {
    assert.match(md, new RegExp(`^- ${name}: \`npx gatehouse examples/hello/app\\.js --engine ${name}( --workers 1| --threads 1)* --bind 127\\.0\\.0\\.1:\\d+\`$`, 'm'));
  }
  assert.match(md, new RegExp(`^- node-http: \`PORT=\\d+ node ${root}/benchmarks/peers/node-http-hello\\.mjs\`$`, 'm'));
  assert.match(md, /^\| node-http \(peer\) \* \| 1 x 1 \| [\d,]+ \|/m);
  assert.match(md, /!\[[^\]]*\]\(chart\.svg\)/);
  assert.match(md, /autocannon/);

  // chart.svg: well-formed; per target a req/s, a CPU and a memory bar, and three latency bars.
  const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
  assertWellFormed(svg);
  assert.equal(count(svg, /<rect [^>]*height="20" rx="2"/), 3 * report.targets.length);
  assert.equal(count(svg, /<rect [^>]*height="20" fill="[^"]+"><title>[^<]* p\d\d: /), 3 * report.targets.length);

  // Verdicts: one per target against the baseline, in report.json and on the page.
  assert.equal(json.verdicts!.length, report.targets.length - 1);
  for (const verdict of json.verdicts!) assert.match(md, new RegExp(`^- ${verdict.target} 1x1 at [\\d.]+x node-http 1x1 `, 'm'));
});

test('serve bench --scenario close: engines and peer answer each request on its own connection; CPU per request for each', { timeout: 60_000 }, async () => {
  const out = join(scratch, 'close');
  const report = await runBench({
    scenario: 'close', engines: ['single', 'prefork'], peers: ['node-http'], workers: 1, duration: 1, rounds: 1, warmup: 0,
    connections: 2, loadgen: 'autocannon', out, cwd: root,
  });
  assert.equal(report.scenario.name, 'close');
  assert.equal(report.app, 'examples/hello/app.js');
  assert.deepEqual(report.targets.map((target) => target.name), ['single', 'prefork', 'node-http']);
  for (const target of report.targets) {
    assert.equal(target.status, 'ok', `${target.name}: ${target.error}`);
    assert.ok(target.summary!.requests > 0, `${target.name} served requests`);
    assert.equal(target.summary!.errors, 0, `${target.name}: no resets or timeouts`);
    if (process.platform === 'linux') assert.ok(target.summary!.cpuUsPerRequest > 0, `${target.name} CPU per request`);
  }
  // One round: the verdicts say noise cannot be judged rather than calling a winner.
  for (const verdict of report.verdicts!) assert.equal(verdict.outcome, 'too-few-rounds');
});

test('an app that fails to start is reported for that engine while the others still run; exit code 1', { timeout: 60_000 }, async () => {
  const broken = join(scratch, 'broken.mjs');
  writeFileSync(broken, "throw new Error('broken on purpose at import');\n");
  const stdout = sink();
  const stderr = sink();
  const out = join(scratch, 'broken');
  const code = await benchMain([broken, '--engines', 'single', '--peers', 'node-http', '--duration', '1', '--rounds', '1', '--warmup', '0',
    '--connections', '2', '--loadgen', 'autocannon', '--out', out], { stdout, stderr });
  assert.equal(code, 1);
  assert.match(stderr.text(), /single: failed to start: .*broken on purpose/);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
  const single = report.targets.find((target) => target.name === 'single')!;
  assert.equal(single.status, 'failed');
  assert.match(single.error!, /broken on purpose/);
  const peer = report.targets.find((target) => target.name === 'node-http')!;
  assert.equal(peer.status, 'ok');
  assert.ok(peer.summary!.rps.median > 0);
  assert.match(stdout.text(), /single\s+1 x 1\s+FAILED/);
});

async function usageError(argv: string[]): Promise<{ code: number; line: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await benchMain(argv, { stdout, stderr });
  return { code, line: stderr.text() };
}

test('an unknown scenario is one line naming it and the choices; exit code 2', async () => {
  const { code, line } = await usageError([hello, '--scenario', 'nope']);
  assert.equal(code, 2);
  assert.equal(line.trim().split('\n').length, 1);
  assert.match(line, /ERR_BENCH_SCENARIO_UNKNOWN: Unknown scenario: "nope"\. Use one of: hello, close, cpu, io, upload, stream, mixed/);
});

test('a port in use is one line naming it; nothing is started; exit code 2', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;
  const { code, line } = await usageError([hello, '--engines', 'single', '--port', String(port), '--out', join(scratch, 'port')]);
  assert.equal(code, 2);
  assert.equal(line.trim().split('\n').length, 1);
  assert.match(line, new RegExp(`ERR_BENCH_PORT_IN_USE: Port is in use: 127\\.0\\.0\\.1:${port}\\.`));
});

test('--loadgen wrk without wrk on PATH is one line saying how to get it; exit code 2', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = join(scratch, 'empty-bin');
  t.after(() => { process.env.PATH = path; });
  const { code, line } = await usageError([hello, '--engines', 'single', '--loadgen', 'wrk', '--out', join(scratch, 'wrk')]);
  assert.equal(code, 2);
  assert.match(line, /ERR_BENCH_WRK_MISSING: wrk is not on PATH\. Install wrk/);
});

test('bad flags and values are one line each; exit code 2', async () => {
  for (const argv of [[hello, '--frobnicate'], [hello, '--rounds', 'many'], [hello, '--rounds', '0'], [hello, '--engines', 'forking'], [hello, '--peers', 'nginx']]) {
    const { code, line } = await usageError(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(line.trim().split('\n').length, 1, line);
    assert.match(line, /^serve bench: ERR_BENCH_/);
  }
});

test('--protocol h2c: a load generator or scenario that speaks only HTTP/1.1 is one line each; h2load missing says how to get it; exit code 2', async (t) => {
  for (const [argv, pattern] of [
    [[hello, '--protocol', 'h2c', '--loadgen', 'wrk'], /ERR_BENCH_USAGE: Invalid bench option: --loadgen with --protocol h2c must be auto, h2load, node-h2, got "wrk"/],
    [[hello, '--protocol', 'http1', '--loadgen', 'node-h2'], /--loadgen with --protocol http1 must be auto, wrk, autocannon, got "node-h2"/],
    [['--scenario', 'close', '--protocol', 'h2c'], /the close scenario closes the connection after each request, which is HTTP\/1\.1 only; use --protocol http1/],
    [[hello, '--protocol', 'h2c', '--streams', '0'], /--streams must be an integer >= 1/],
  ] as const) {
    const { code, line } = await usageError([...argv, '--engines', 'single', '--out', join(scratch, 'h2-usage')]);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(line.trim().split('\n').length, 1, line);
    assert.match(line, pattern);
  }
  const { code: badProtocol } = await usageError([hello, '--protocol', 'h3']);
  assert.equal(badProtocol, 2);
  const path = process.env.PATH;
  process.env.PATH = join(scratch, 'empty-bin');
  t.after(() => { process.env.PATH = path; });
  const { code, line } = await usageError([hello, '--engines', 'single', '--protocol', 'h2c', '--loadgen', 'h2load', '--out', join(scratch, 'h2load')]);
  assert.equal(code, 2);
  assert.match(line, /ERR_BENCH_H2LOAD_MISSING: h2load is not on PATH\. Install it \(apt-get install nghttp2-client/);
});
