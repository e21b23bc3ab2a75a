/*
 * The error log and the access log as an operator reads them, under every engine: an
 * uncaught exception is a log record (not raw text inside the JSON stream), a client hanging up
 * is not the server's error, and the access log's %(p)s / %(w)s name the unit that ran the
 * request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { ServeProcess, eventually, readLines, tempDir, type LogRecord } from './kit/index.js';

const ENGINES = ['single', 'prefork', 'threaded', 'hybrid'] as const;
const UNITS = ['--workers', '2', '--threads', '2'];

const WHO_APP = `import { threadId } from 'node:worker_threads';
export default async function app(request) {
  await new Promise((resolve) => setTimeout(resolve, 30));
  return { status: 200, headers: [['x-pid', String(process.pid)], ['x-thread', String(threadId)]], body: 'ok' };
}
`;

const THROWS_LATER_APP = `export default function app(request) {
  if (request.path === '/later') setTimeout(function later() { throw new Error('timer blew up'); }, 5);
  return { status: 200, body: 'ok' };
}
`;

const STREAM_APP = `export default function app() {
  async function* chunks() {
    for (let i = 0; i < 200; i++) {
      yield new TextEncoder().encode('x'.repeat(1024));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { status: 200, headers: [['content-type', 'text/plain']], body: chunks() };
}
`;

/** The unit-up records: which unit number a process (by pid) or a thread (by pid and threadId) has. */
function unitsOf(records: LogRecord[]): { processId(pid: number): number; threadId(pid: number, threadId: number): number } {
  const ups = records.filter((r) => typeof r.unitKind === 'string' && /up/.test(r.msg));
  const find = (what: string, test: (r: LogRecord) => boolean) => {
    const found = ups.filter(test).at(-1);
    assert.ok(found, `no unit-up record for ${what}`);
    return found.unitId as number;
  };
  return {
    processId: (pid) => find(`process ${pid}`, (r) => r.unitKind === 'process' && r.unitPid === pid),
    threadId: (pid, threadId) => find(`thread ${threadId} of ${pid}`, (r) => r.unitKind === 'thread' && r.unitPid === pid && r.threadId === threadId),
  };
}

describe('access log %(p)s and %(w)s name the unit that ran the request', { timeout: 120_000 }, () => {
  for (const engine of ENGINES) {
    it(engine, async (t) => {
      const dir = tempDir({ 'app.mjs': WHO_APP });
      const access = path.join(dir, 'access.log');
      const serve = new ServeProcess(['app.mjs', '--engine', engine, ...UNITS, '--bind', '127.0.0.1:0',
        '--access-log', access, '--access-log-format', '%(p)s %(w)s %({x-pid}o)s %({x-thread}o)s'], { cwd: dir });
      t.after(() => serve.dispose());
      const url = await serve.url;
      // Concurrent requests, so more than one unit gets some.
      await Promise.all(Array.from({ length: 8 }, () => fetch(url).then((r) => r.text())));
      const lines = await eventually('8 access lines', () => readLines(access).length === 8 && readLines(access));
      const units = unitsOf(serve.records);
      for (const line of lines) {
        const [p, w, pidText, threadText] = line.split(' ');
        const pid = Number(pidText);
        const thread = Number(threadText);
        switch (engine) {
          case 'single':
            assert.deepEqual([p, w], [String(serve.child.pid), '0'], line);
            break;
          case 'prefork':
            assert.deepEqual([p, w], [String(pid), String(units.processId(pid))], line);
            break;
          case 'threaded':
            assert.equal(pid, serve.child.pid);
            assert.deepEqual([p, w], [`${pid}:${units.threadId(pid, thread)}`, String(units.threadId(pid, thread))], line);
            break;
          case 'hybrid':
            assert.deepEqual([p, w], [`${pid}:${units.threadId(pid, thread)}`, `${units.processId(pid)}.${units.threadId(pid, thread)}`], line);
            break;
        }
      }
    });
  }
});

describe('an uncaught exception is one log record carrying the stack', { timeout: 120_000 }, () => {
  for (const engine of ENGINES) {
    it(engine, async (t) => {
      const dir = tempDir({ 'app.mjs': THROWS_LATER_APP });
      const serve = new ServeProcess(['app.mjs', '--engine', engine, ...UNITS, '--bind', '127.0.0.1:0'], { cwd: dir });
      t.after(() => serve.dispose());
      const url = await serve.url;
      await fetch(`${url}/later`).then((r) => r.text());
      const record = await serve.until('a record with the stack', () => serve.records.find((r) => r.level >= 50 && /uncaught\.mjs|app\.mjs:2/.test(JSON.stringify(r))));
      assert.match(JSON.stringify(record), /timer blew up/);
      assert.match(JSON.stringify(record), /at (Timeout\.)?later .*app\.mjs:2:\d+/);
      if (engine === 'single') assert.equal((await serve.exited).code, 1, 'the master exits as Node would');
      else await serve.until('the unit to be replaced', () => serve.records.some((r) => r.unitKind && r.reason === 'crash'));
      const raw = serve.stderr.split('\n').filter((line) => line && !line.startsWith('{'));
      assert.deepEqual(raw, [], 'every stderr line is a JSON record');
    });
  }

  it('pretty: one line, the stack indented below it, in a worker process', async (t) => {
    const dir = tempDir({ 'app.mjs': THROWS_LATER_APP });
    const serve = new ServeProcess(['app.mjs', '--engine', 'prefork', '--workers', '1', '--bind', '127.0.0.1:0', '--log-format', 'pretty'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    await fetch(`${url}/later`).then((r) => r.text());
    await serve.until('the replacement', () => /process 1 down \(crash\)/.test(serve.stderr));
    const lines = serve.stderr.split('\n');
    const at = lines.findIndex((line) => /^\d{2}:\d{2}:\d{2}\.\d{3} FATAL uncaught exception in worker process 1: Error: timer blew up/.test(line));
    assert.ok(at >= 0, serve.stderr);
    assert.match(lines[at + 1]!, /^ {4}Error: timer blew up$/);
    assert.match(lines[at + 2]!, /^ +at (Timeout\.)?later .*app\.mjs:2:\d+/);
    assert.doesNotMatch(serve.stderr, /^Node\.js v/m);
  });
});

describe('a client that hangs up mid-response is not an error of the server', { timeout: 120_000 }, () => {
  for (const engine of ENGINES) {
    it(engine, async (t) => {
      const dir = tempDir({ 'app.mjs': STREAM_APP });
      const access = path.join(dir, 'access.log');
      const serve = new ServeProcess(['app.mjs', '--engine', engine, ...UNITS, '--bind', '127.0.0.1:0', '--log-level', 'debug', '--access-log', access], { cwd: dir });
      t.after(() => serve.dispose());
      const { hostname, port } = new URL(await serve.url);
      const socket = net.connect(Number(port), hostname);
      socket.write('GET /stream HTTP/1.1\r\nhost: x\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      // Hang up well into the response (engines watch for a hang-up only once a request is 50 ms old).
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
      await eventually('the access line', () => readLines(access).some((line) => line.includes('GET /stream')));
      // Where the app runs on a thread, its engine reports the abandoned response back: wait for that too.
      if (engine === 'threaded' || engine === 'hybrid') {
        const gone = await serve.until('the hang-up to be logged', () => serve.records.find((r) => /ERR_HTTP_CLIENT_GONE/.test(JSON.stringify(r))));
        assert.ok(gone.level < 40, `logged at level ${gone.level}: ${JSON.stringify(gone)}`);
        assert.equal(gone.err, undefined, 'no stack for a client hanging up');
      }
      assert.deepEqual(serve.records.filter((r) => r.level >= 40), []);
    });
  }
});
