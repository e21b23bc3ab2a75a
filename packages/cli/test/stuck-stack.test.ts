/*
 * A unit stuck in a busy loop past --timeout says where it was stuck: a real `serve` process
 * whose app spins forever on /loop. Before the kill record (the unit's "down (timeout)"), the
 * log has one `stack` record naming the app's function and file:line; then the unit is
 * replaced and serves again, with the default settings. Prefork kills the worker process (its
 * stack read by the worker's helper thread); threaded and hybrid terminate the app thread (the
 * loop runs on it, not on the process's main thread).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ServeProcess, tempDir, type LogRecord } from './kit/index.js';

const LOOP_APP = `function spinForever() {
  for (;;) { /* stuck */ }
}
export default function app(request) {
  if (request.path === '/loop') spinForever();
  return { status: 200, body: 'ok' };
}
`;

const ENGINES: Record<string, { flags: string[]; unit: 'process' | 'thread' }> = {
  prefork: { flags: ['--engine', 'prefork', '--workers', '1'], unit: 'process' },
  hybrid: { flags: ['--engine', 'hybrid', '--workers', '1', '--threads', '1'], unit: 'thread' },
  threaded: { flags: ['--engine', 'threaded', '--threads', '1'], unit: 'thread' },
};

const isStack = (r: LogRecord): boolean => r.engineEvent === 'stack';

for (const [engine, { flags, unit }] of Object.entries(ENGINES)) {
  describe(`a stuck unit under ${engine}`, { timeout: 60_000 }, () => {
    it('logs its JavaScript stack before it is killed, and is replaced', async (t) => {
      const dir = tempDir({ 'app.js': LOOP_APP });
      const serve = new ServeProcess(['app.js', ...flags, '--bind', '127.0.0.1:0', '--timeout', '2'], { cwd: dir });
      t.after(() => serve.dispose());
      const url = await serve.url;
      const stuck = fetch(`${url}/loop`).then((r) => r.status, () => 'cut off');

      const isDown = (r: LogRecord): boolean => r.unitKind === unit && r.reason === 'timeout' && /down/.test(r.msg);
      await serve.until('the stuck unit to go down', () => serve.records.some(isDown), 30_000);
      const stackAt = serve.records.findIndex(isStack);
      assert.ok(stackAt >= 0, `no stack record; stderr:\n${serve.stderr}`);
      assert.ok(stackAt < serve.records.findIndex(isDown), 'the stack is logged before the kill');
      assert.equal(serve.records.filter(isStack).length, 1, 'one stack record');
      const detail = String(serve.records[stackAt]!.detail);
      const appFile = pathToFileURL(path.join(dir, 'app.js')).href;
      const frames = detail.split('\n').slice(1).map((line) => line.trim());
      assert.ok(frames[0]!.startsWith(`at spinForever (${appFile}:2:`), `the top frame is the app's loop, with file and line:\n${detail}`);
      assert.match(frames[1]!, /^at (Object\.)?app \(/, 'then the app function that called it');
      assert.ok(frames[1]!.includes(`${appFile}:5:`), detail);

      assert.ok([503, 504, 'cut off'].includes(await stuck as number | string), 'the stuck request was answered or cut off');
      await serve.until(`a new ${unit} to come up`, () => serve.records.some((r) => r.unitKind === unit && (r.unitId as number) >= 2 && / up/.test(r.msg)), 30_000);
      assert.equal(await (await fetch(`${url}/`, { headers: { connection: 'close' } })).text(), 'ok');
    });
  });
}
