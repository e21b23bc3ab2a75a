/*
 * Liveness (--timeout) as a user of the real `serve` bin sees it, under every engine:
 * - `--timeout 0` means no liveness check at all (as in Gunicorn): the server serves, and a
 *   request that blocks its event loop for seconds is not killed;
 * - a server whose whole process group was stopped (SIGSTOP, a VM pause) and continued does
 *   not blame its units for the time it lost: none is replaced, and it serves on.
 * Each server runs as a child process and logs JSON; "replaced" is read from its unit log
 * lines (`<kind> <id> down (...)`), which every engine writes when a unit goes down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServeProcess, tempDir, type LogRecord } from './kit/index.js';

const APP = `export default async function app(request) {
  const ms = Number(new URLSearchParams(request.query).get('ms') ?? 0);
  if (request.path === '/busy') { const end = Date.now() + ms; while (Date.now() < end) { /* blocks this loop */ } }
  if (request.path === '/sleep') await new Promise((resolve) => setTimeout(resolve, ms));
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'ok ' + request.path };
}
`;

const ENGINE_ARGS: Record<string, string[]> = {
  single: ['--engine', 'single'],
  prefork: ['--engine', 'prefork', '--workers', '1'],
  threaded: ['--engine', 'threaded', '--threads', '2'],
  hybrid: ['--engine', 'hybrid', '--workers', '1', '--threads', '2'],
};

/** Log records saying a unit went down or was judged stuck. */
const downs = (records: readonly LogRecord[]): LogRecord[] =>
  records.filter((r) => typeof r.reason === 'string' || /timeout/.test(String(r.engineEvent ?? '')) || / down( |$)/.test(r.msg));

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: response.status, text: await response.text() };
}

for (const [engine, args] of Object.entries(ENGINE_ARGS)) {
  test(`${engine}: --timeout 0 serves, and a request that blocks its event loop for 2.5 s is not killed`, { timeout: 40_000 }, async (t) => {
    const dir = tempDir({ 'app.mjs': APP });
    const serve = new ServeProcess([...args, '--timeout', '0', '--bind', '127.0.0.1:0', 'app.mjs'], { cwd: dir });
    t.after(() => serve.dispose());
    const url = await serve.url;
    const readyAt = serve.records.length;
    const blocked = get(`${url}/busy?ms=2500`);
    const slow = get(`${url}/sleep?ms=2500`);
    const quick: Array<{ status: number; text: string }> = [];
    for (let i = 0; i < 10; i++) quick.push(await get(`${url}/hello`));
    assert.deepEqual(await blocked, { status: 200, text: 'ok /busy' }, 'the blocking request was answered');
    assert.deepEqual(await slow, { status: 200, text: 'ok /sleep' });
    assert.deepEqual(quick.map((r) => r.status), Array(10).fill(200));
    assert.deepEqual(downs(serve.records.slice(readyAt)).map((r) => r.msg), [], 'no unit went down');
    serve.kill('SIGTERM');
    await serve.exited;
  });
}

for (const engine of ['threaded', 'hybrid']) {
  test(`${engine} --timeout 2: the process group stopped for 5 s and continued replaces no unit and serves on`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir({ 'app.mjs': APP });
    const serve = new ServeProcess([...ENGINE_ARGS[engine]!, '--timeout', '2', '--bind', '127.0.0.1:0', 'app.mjs'], { cwd: dir, detached: true });
    const group = (signal: NodeJS.Signals) => { try { process.kill(-serve.child.pid!, signal); } catch { /* gone */ } };
    t.after(async () => { group('SIGCONT'); group('SIGKILL'); await serve.dispose(); });
    const url = await serve.url;
    for (let i = 0; i < 4; i++) assert.equal((await get(`${url}/hello`)).status, 200);
    const before = serve.records.length;
    const stoppedAt = Date.now();
    group('SIGSTOP');
    await sleep(5000);
    group('SIGCONT');
    // Past the timeout again after the freeze: a wrongly blamed unit would be gone by now.
    await sleep(3000);
    const after: number[] = [];
    for (let i = 0; i < 10; i++) after.push((await get(`${url}/hello`)).status);
    assert.deepEqual(after, Array(10).fill(200), 'it serves after the freeze');
    const since = serve.records.slice(before);
    t.diagnostic(`stopped at ${stoppedAt}; logged since: ${JSON.stringify(since.map((r) => [r.time, r.msg.slice(0, 80)]))}`);
    assert.deepEqual(downs(since).map((r) => r.msg), [], 'no unit was replaced');
    assert.deepEqual(since.filter((r) => / up( |$)/.test(r.msg)).map((r) => r.msg), [], 'no unit was started');
    group('SIGTERM');
    await serve.exited;
  });
}
