/*
 * Workers are forked with the master's node flags, minus those that must not run again in a
 * worker. The one that matters most: a master started as `node -e SCRIPT` (an embedding
 * script, a test) must not make every worker run SCRIPT instead of the worker entry — that
 * started a server in each "worker", which forked again, without end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerExecArgv } from '../src/arbiter.js';

describe('worker exec flags', { timeout: 40_000 }, () => {
  it('drops inline scripts, the test runner and the inspector, and keeps loaders', () => {
    assert.deepEqual(
      workerExecArgv(['--input-type=module', '-e', 'start()', '--import', 'tsx', '--test', '--inspect=9229', '--max-old-space-size=512']),
      ['--import', 'tsx', '--max-old-space-size=512'],
    );
    assert.deepEqual(workerExecArgv(['-p', '1 + 1', '--eval=x()', '--print=y', '--require', './hook.cjs']), ['--require', './hook.cjs']);
  });

  it('a master started with `node -e` forks exactly its workers, which serve', async () => {
    const engineModule = fileURLToPath(new URL('../src/index.js', import.meta.url));
    const app = fileURLToPath(new URL('../../../../examples/hello/app.js', import.meta.url));
    const script = `
      import PreforkEngine from ${JSON.stringify(engineModule)};
      import { defaultSettings } from '@gatehouse/core';
      const engine = new PreforkEngine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'], workers: 2 }, app: { kind: 'module', spec: ${JSON.stringify(app)} } });
      await engine.start();
      const text = await (await fetch(engine.addresses[0].url)).text();
      process.stdout.write(JSON.stringify({ text, workers: engine.stats().units.length }));
      await engine.stop({ graceful: false });`;
    // Its own process group, so that even a fork storm is killed whole when the bound passes.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const bound = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(bound);
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* the group is already gone */ }
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), { text: 'Hello, World!', workers: 2 });
  });
});
