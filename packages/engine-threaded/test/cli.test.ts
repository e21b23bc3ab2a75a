/*
 * The threaded engine under the real `serve` bin (packages/cli/bin/serve.js, a child process):
 * what only the whole CLI shows. Config-file request hooks are functions, which cannot cross
 * to an app thread; the CLI's logging setup calls them from core's request events, which the
 * protocol layer publishes on the main (I/O) thread, before the request is dispatched and
 * after its response is written. A user relies on each running exactly once per request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './kit/index.js';

const SERVE_BIN = fileURLToPath(new URL('../../../cli/bin/serve.js', import.meta.url));

test('serve --engine threaded runs the config file\'s pre_request and post_request once per request', { timeout: 30_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-threaded-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hookLog = path.join(dir, 'hooks.log');
  fs.writeFileSync(path.join(dir, 'app.mjs'), `import { threadId } from 'node:worker_threads';
export default (request) => ({ status: request.path === '/missing' ? 404 : 200, headers: [['content-type', 'text/plain']], body: String(threadId) });
`);
  fs.writeFileSync(path.join(dir, 'gatehouse.config.mjs'), `import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
const log = (line) => fs.appendFileSync(${JSON.stringify(hookLog)}, line + '\\n');
export const engine = 'threaded';
export const threads = 2;
export const bind = '127.0.0.1:0';
export function pre_request(request) { log('pre ' + request.path + ' ' + threadId); }
export function post_request(request, response) { log('post ' + request.path + ' ' + response.status + ' ' + threadId); }
`);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_')) env[key] = value;
  const child = spawn(process.execPath, [SERVE_BIN, 'app.mjs'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } });
  const ready = await new Promise<{ addresses: string[]; engine: string }>((resolve, reject) => {
    child.on('message', (message: { type?: string; addresses: string[]; engine: string }) => { if (message?.type === 'gatehouse:ready') resolve(message); });
    void exited.then(() => reject(new Error(`serve exited before ready:\n${stderr}`)));
  });
  assert.equal(ready.engine, 'threaded');
  const url = ready.addresses[0]!;

  const appThreads = new Set<string>();
  for (const route of ['/a', '/b', '/missing', '/c']) {
    const response = await fetch(`${url}${route}`);
    appThreads.add(await response.text());
    assert.equal(response.status, route === '/missing' ? 404 : 200);
  }
  const lines = () => (fs.existsSync(hookLog) ? fs.readFileSync(hookLog, 'utf8').trim().split('\n') : []);
  await until(() => lines().length >= 8, 10_000, 'eight hook lines');
  // A moment for a second call of any hook to show up, if there were one.
  await fetch(`${url}/last`).then((r) => r.text());
  await until(() => lines().some((l) => l.startsWith('post /last')), 10_000, 'the last post_request');
  const byRoute = (route: string) => lines().filter((l) => l.split(' ')[1] === route).map((l) => l.split(' ').slice(0, -1).join(' '));
  assert.deepEqual(byRoute('/a'), ['pre /a', 'post /a 200']);
  assert.deepEqual(byRoute('/b'), ['pre /b', 'post /b 200']);
  assert.deepEqual(byRoute('/missing'), ['pre /missing', 'post /missing 404']);
  assert.deepEqual(byRoute('/c'), ['pre /c', 'post /c 200']);
  const hookThreads = new Set(lines().map((l) => l.split(' ').at(-1)));
  t.diagnostic(`hooks ran on threadId ${[...hookThreads].join(', ')}; the app on ${[...appThreads].join(', ')}`);
  assert.ok(![...appThreads].includes('0'), 'the app ran on app threads');

  child.kill('SIGTERM');
  await exited;
});
