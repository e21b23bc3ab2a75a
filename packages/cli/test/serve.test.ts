/*
 * A real `serve` process under signals: ready over IPC, SIGTERM finishing an in-flight request,
 * a second TERM forcing the exit, --pid, config-file hooks at their moments, USR1 reopening a
 * moved access log (logrotate), --reload keeping the old code through a syntax error, and an
 * engine plugged in by path. The single engine is used so these tests do not depend on the
 * other engines; they run the CLI's own machinery.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORE_URL, HELLO_APP, ServeProcess, eventually, readLines, tempDir } from './kit/index.js';

const SLOW_APP = `
let release;
export default async function app(request) {
  if (request.path === '/slow') {
    console.log('slow-started');
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { status: 200, body: 'slow done' };
  }
  if (request.path === '/forever') {
    console.log('forever-started');
    await new Promise((resolve) => { release = resolve; });
  }
  return { status: 200, body: 'ok' };
}
`;

const BASE = ['--engine', 'single', '--bind', '127.0.0.1:0'];

describe('serve under signals', { timeout: 60_000 }, () => {
  it('SIGTERM: the in-flight request completes, then exit 0; the pid file lives as long as the server', async (t) => {
    const dir = tempDir({ 'app.js': SLOW_APP });
    const pidFile = path.join(dir, 'serve.pid');
    const serve = new ServeProcess(['app.js', ...BASE, '--pid', 'serve.pid'], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), String(ready.pid));
    assert.equal(ready.pid, serve.child.pid);

    const response = fetch(`${ready.addresses[0]}/slow`).then(async (r) => [r.status, await r.text()]);
    await serve.until('the slow request to start', () => serve.stdout.includes('slow-started'));
    serve.kill('SIGTERM');
    assert.deepEqual(await response, [200, 'slow done']);
    const exit = await serve.exited;
    assert.equal(exit.code, 0, serve.stderr);
    assert.ok(serve.records.some((r) => r.event === 'stop' && r.graceful === true && r.signal === 'SIGTERM'));
    assert.equal(fs.existsSync(pidFile), false, 'the pid file is removed on exit');
  });

  it('a second SIGTERM during a graceful stop exits now', async (t) => {
    const dir = tempDir({ 'app.js': SLOW_APP });
    const serve = new ServeProcess(['app.js', ...BASE, '--graceful-timeout', '30'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    fetch(`${url}/forever`).catch(() => { /* cut off by the forced exit */ });
    await serve.until('the endless request to start', () => serve.stdout.includes('forever-started'));
    serve.kill('SIGTERM');
    await serve.event('stop');
    serve.kill('SIGTERM');
    const exit = await serve.exited;
    assert.equal(exit.code, 1);
    assert.ok(serve.records.some((r) => r.event === 'forced-exit'));
  });

  it('SIGINT is a fast stop', async (t) => {
    const dir = tempDir({ 'app.js': SLOW_APP });
    const serve = new ServeProcess(['app.js', ...BASE], { cwd: dir });
    t.after(() => serve.dispose());
    await serve.ready;
    serve.kill('SIGINT');
    assert.equal((await serve.exited).code, 0);
    assert.ok(serve.records.some((r) => r.event === 'stop' && r.graceful === false));
  });
});

describe('config-file hooks', { timeout: 60_000 }, () => {
  it('on_starting before listening, when_ready with the address, pre/post_request around a request, on_reload on HUP', async (t) => {
    const dir = tempDir({ 'app.js': HELLO_APP });
    const hookLog = path.join(dir, 'hooks.log');
    fs.writeFileSync(path.join(dir, 'gatehouse.config.mjs'), `
import fs from 'node:fs';
const log = (line) => fs.appendFileSync(${JSON.stringify(hookLog)}, line + '\\n');
export const engine = 'single';
export const bind = '127.0.0.1:0';
export function on_starting(settings) { log('on_starting workers=' + settings.workers); }
export function when_ready(server) { log('when_ready ' + server.addresses.map((a) => a.url).join(',')); }
export function on_reload(server) { log('on_reload'); }
export function pre_request(request) { log('pre_request ' + request.path); }
export function post_request(request, response) { log('post_request ' + request.path + ' ' + response.status); }
export const workers = 3;
`);
    const serve = new ServeProcess(['app.js'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    assert.deepEqual(readLines(hookLog), ['on_starting workers=3', `when_ready ${url}`]);

    assert.equal((await fetch(`${url}/missing`)).status, 404);
    await eventually('post_request', () => readLines(hookLog).length >= 4);
    assert.deepEqual(readLines(hookLog).slice(2), ['pre_request /missing', 'post_request /missing 404']);

    const from = serve.records.length;
    serve.kill('SIGHUP');
    await serve.event('reloaded', from);
    assert.equal(readLines(hookLog)[4], 'on_reload');
    assert.equal(await (await fetch(`${url}/after`)).text(), 'hello /after');
  });
});

describe('logs', { timeout: 60_000 }, () => {
  it('USR1 reopens the access log after logrotate moved it', async (t) => {
    const dir = tempDir({ 'app.js': HELLO_APP });
    const access = path.join(dir, 'access.log');
    const serve = new ServeProcess(['app.js', ...BASE, '--access-log', access], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    await fetch(`${url}/before`, { headers: { 'user-agent': 'test-agent', referer: 'http://example.test/' } }).then((r) => r.text());
    const [line] = await eventually('the first access line', () => readLines(access).length === 1 && readLines(access));
    assert.match(line!, /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/before HTTP\/1\.1" 200 \d+ "http:\/\/example\.test\/" "test-agent"$/);

    fs.renameSync(access, `${access}.1`);
    const from = serve.records.length;
    serve.kill('SIGUSR1');
    await serve.event('reopen-logs', from);
    await fetch(`${url}/after`).then((r) => r.text());
    await eventually('a new access.log', () => readLines(access).length === 1);
    assert.match(readLines(access)[0]!, /"GET \/after HTTP\/1\.1" 200/);
    assert.deepEqual(readLines(`${access}.1`).length, 1, 'the rotated file got no new line');
  });

  it('--access-log-format atoms and the error log to a file, JSON lines', async (t) => {
    const dir = tempDir({ 'app.js': HELLO_APP });
    const access = path.join(dir, 'access.log');
    const errors = path.join(dir, 'error.log');
    const serve = new ServeProcess(['app.js', ...BASE, '--access-log', access, '--access-log-format', '%(m)s %(U)s %(q)s %(s)s %(B)s %(D)s %(p)s %(E)s %({x-trace}i)s', '--error-log', errors], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    await fetch(`${url}/p?a=1`, { headers: { 'x-trace': 'abc' } }).then((r) => r.text());
    const [line] = await eventually('the access line', () => readLines(access).length === 1 && readLines(access));
    const fields = line!.split(' ');
    assert.deepEqual(fields.slice(0, 5), ['GET', '/p', 'a=1', '200', String(Buffer.byteLength('hello /p'))]);
    assert.match(fields[5]!, /^\d+$/);
    assert.equal(fields[6], String(serve.child.pid));
    assert.deepEqual(fields.slice(7), ['single', 'abc']);
    const ready = readLines(errors).map((l) => JSON.parse(l) as { event?: string; addresses?: string[] }).find((r) => r.event === 'ready');
    assert.deepEqual(ready?.addresses, [url]);
  });
});

describe('pretty error log', { timeout: 30_000 }, () => {
  it('--log-format pretty writes human-readable lines', async (t) => {
    const dir = tempDir({ 'app.js': HELLO_APP });
    const serve = new ServeProcess(['app.js', ...BASE, '--log-format', 'pretty'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    await serve.until('the listening line', () => serve.stderr.includes('listening on'));
    assert.match(serve.stderr, new RegExp(`^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  listening on ${url.replace(/[.]/g, '\\.')} \\(engine single\\)`, 'm'));
    assert.equal(serve.records.length, 0, 'no JSON lines');
    serve.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);
  });
});

describe('--reload', { timeout: 60_000 }, () => {
  it('serves edited code; a syntax error is logged and the previous version keeps serving', async (t) => {
    const dir = tempDir({ 'app.js': 'export default () => ({ status: 200, body: "v1" });\n' });
    const serve = new ServeProcess(['app.js', ...BASE, '--reload'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    assert.equal(await (await fetch(url)).text(), 'v1');

    let from = serve.records.length;
    fs.writeFileSync(path.join(dir, 'app.js'), 'export default () => ({ status: 200, body: "v2" );\n');
    const failed = await serve.event('reload-failed', from);
    assert.match(failed.msg, /previous version keeps serving/);
    assert.equal(await (await fetch(url)).text(), 'v1');

    from = serve.records.length;
    fs.writeFileSync(path.join(dir, 'app.js'), 'export default () => ({ status: 200, body: "v3" });\n');
    await serve.event('reloaded', from);
    assert.equal(await (await fetch(url)).text(), 'v3');
  });
});

describe('--engine as a path to a third-party engine', { timeout: 30_000 }, () => {
  it('serves through the class the module exports', async (t) => {
    const dir = tempDir({
      'app.js': HELLO_APP,
      'my-engine.mjs': `import { SingleEngine } from ${JSON.stringify(CORE_URL)};\nexport class MyEngine extends SingleEngine { name = 'mine'; }\nexport default MyEngine;\n`,
    });
    const serve = new ServeProcess(['app.js', '--engine', './my-engine.mjs', '--bind', '127.0.0.1:0'], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    assert.equal(ready.engine, 'mine');
    assert.equal(await (await fetch(`${ready.addresses[0]}/x`)).text(), 'hello /x');
    serve.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);
  });
});

describe('metrics from worker processes', { timeout: 60_000 }, () => {
  it('the master sums the requests each prefork worker reports', async (t) => {
    const dir = tempDir({ 'app.js': HELLO_APP });
    const serve = new ServeProcess(['app.js', '--engine', 'prefork', '--workers', '2', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--timeout', '2'], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    assert.equal(ready.engine, 'prefork');
    const requests = 20;
    for (let i = 0; i < requests; i++) await (await fetch(`${ready.addresses[0]}/${i}`, { headers: { connection: 'close' } })).text();
    await (await fetch(`${ready.addresses[0]}/missing`)).text();
    // Workers report with their heartbeat: poll the totals (bounded) rather than sleep a fixed time.
    let last = '';
    const deadline = Date.now() + 20_000;
    while (!(/^gatehouse_requests_total\{status_class="2xx"\} 20$/m.test(last) && /^gatehouse_requests_total\{status_class="4xx"\} 1$/m.test(last))) {
      assert.ok(Date.now() < deadline, `the master never showed 20 2xx and 1 4xx; last scrape:\n${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await (await fetch(ready.metrics!)).text();
    }
    assert.match(last, /^gatehouse_units_alive\{kind="process"\} 2$/m);
    assert.match(last, /^gatehouse_request_duration_seconds_count 21$/m);
  });
});
