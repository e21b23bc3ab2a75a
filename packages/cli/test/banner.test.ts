/*
 * What `serve` writes at start-up, as an operator sees it. On a terminal (a pseudo-terminal
 * from util-linux `script`): the banner (version, engine with its units, app and interface,
 * where the settings came from) and one ready line. Piped: JSON records with exactly one ready
 * record, ISO 8601 time unless --log-time epoch asks for pino's milliseconds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { HELLO_APP, SERVE_BIN, ServeProcess, cleanEnv, tempDir, type LogRecord } from './kit/index.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs serve under a pseudo-terminal until its ready line, stops it, and returns what the terminal showed. */
async function onTerminal(args: string[], cwd: string, env: Record<string, string>): Promise<string[]> {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.error) assert.fail(`this test needs util-linux "script" to give serve a terminal (${probe.error.message}); install util-linux (Debian: apt-get install bsdutils)`);
  const command = ['exec', process.execPath, SERVE_BIN, ...args].map(quote).join(' ').replace(/^'exec'/, 'exec');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => { text += d; });
  child.stderr.on('data', (d) => { text += d; });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const lines = () => text.replace(ANSI, '').split(/\r?\n/);
  try {
    const deadline = Date.now() + 20_000;
    while (!lines().some((l) => l.includes('listening on '))) {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`no ready line on the terminal:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pid = Number(/ pid=(\d+)/.exec(lines().find((l) => l.includes('Starting gatehouse')) ?? '')?.[1]);
    assert.ok(pid > 0, `the banner names the server's pid:\n${text}`);
    process.kill(pid, 'SIGTERM');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return lines();
}

/** Every record that says the server is ready: the server's own, or any engine's. */
const readyRecords = (records: readonly LogRecord[]) => records.filter((r) => r.event === 'ready' || r.engineEvent === 'ready' || /^(ready|listening)\b/.test(r.msg));

describe('start-up on a terminal', () => {
  it('shows the banner, then one ready line', async () => {
    const dir = tempDir({ 'app.mjs': HELLO_APP, 'gatehouse.config.mjs': 'export default { threads: 2 };\n' });
    const lines = await onTerminal(['-e', 'hybrid', '--interface', 'gateway', '-b', '127.0.0.1:0', 'app.mjs'], dir, { GATEHOUSE_WORKERS: '2' });
    const text = lines.join('\n');
    const message = (prefix: string) => lines.map((l) => / INFO\s+(.*?)(  \w+=.*)?$/.exec(l)?.[1]).find((m) => m?.startsWith(prefix));
    assert.match(message('Starting ') ?? '', /^Starting gatehouse \d+\.\d+\.\d+\S* \(node v\d+\.\d+\.\d+\)$/, text);
    assert.equal(message('Engine: '), 'Engine: hybrid, 2 workers x 2 threads (16 requests in flight per thread)', text);
    assert.equal(message('App: '), `App: ${path.join(dir, 'app.mjs')} (interface gateway)`, text);
    assert.equal(message('Config: '), `Config: file ${path.join(dir, 'gatehouse.config.mjs')}; env GATEHOUSE_WORKERS; cli APP --engine --interface --bind`, text);
    const ready = lines.filter((l) => /\b(ready|listening on)\b/.test(l));
    assert.equal(ready.length, 1, `one ready line:\n${text}`);
    assert.match(ready[0]!, /listening on http:\/\/127\.0\.0\.1:\d+ \(engine hybrid\)/);
    assert.ok(lines.findIndex((l) => l.includes('Config: ')) < lines.indexOf(ready[0]!), 'the banner comes before the ready line');
  });
});

describe('start-up piped (JSON)', () => {
  for (const engine of ['single', 'prefork', 'threaded', 'hybrid']) {
    it(`${engine}: exactly one ready record, ISO 8601 time, no banner`, async (t) => {
      const dir = tempDir({ 'app.mjs': HELLO_APP });
      const serve = new ServeProcess(['-e', engine, '--workers', '2', '--threads', '2', '-b', '127.0.0.1:0', 'app.mjs'], { cwd: dir });
      t.after(() => serve.dispose());
      await serve.ready;
      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
      const ready = readyRecords(serve.records);
      assert.equal(ready.length, 1, `one ready record, got: ${JSON.stringify(ready)}`);
      assert.equal(ready[0]!.event, 'ready');
      for (const record of serve.records) assert.match(String(record.time), ISO_8601, JSON.stringify(record));
      assert.ok(!serve.records.some((r) => /^(Starting gatehouse|Engine: |App: |Config: )/.test(r.msg)), 'the banner is for terminals only');
    });
  }

  it('--log-time epoch and GATEHOUSE_LOG_TIME=epoch give milliseconds since 1970', async (t) => {
    for (const how of [{ args: ['--log-time', 'epoch'], env: {} as Record<string, string> }, { args: [], env: { GATEHOUSE_LOG_TIME: 'epoch' } }]) {
      const dir = tempDir({ 'app.mjs': HELLO_APP });
      const before = Date.now();
      const serve = new ServeProcess(['-e', 'prefork', '--workers', '1', '-b', '127.0.0.1:0', ...how.args, 'app.mjs'], { cwd: dir, env: how.env });
      t.after(() => serve.dispose());
      await serve.ready;
      serve.kill('SIGTERM');
      await serve.exited;
      assert.ok(serve.records.length > 0);
      for (const record of serve.records) {
        assert.equal(typeof record.time, 'number', JSON.stringify(record));
        assert.ok((record.time as number) >= before - 1000 && (record.time as number) <= Date.now() + 1000, JSON.stringify(record));
      }
    }
  });

  it('a bad --log-time value is one line naming the choices', async () => {
    const serve = new ServeProcess(['--log-time', 'unix', 'app.mjs'], { cwd: tempDir({ 'app.mjs': HELLO_APP }) });
    const { code } = await serve.exited;
    assert.equal(code, 2);
    assert.match(serve.stderr, /log-time.*iso.*epoch/);
  });
});
